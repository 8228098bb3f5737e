"""Evidence units: a sentence that points back is quoted with its antecedent, verbatim, with the joint span."""

from __future__ import annotations

from rag.answer.evidence import joined, points_back, unit
from rag.models import Sentence

TEXT = "彼时,马斯克提出收购意向。这一提议遭到了一致拒绝。\n他随后宣布退出。此外,OpenAI改组。"


def _sentences(text: str) -> list[Sentence]:
    out, start = [], 0
    for part in ("彼时,马斯克提出收购意向。", "这一提议遭到了一致拒绝。", "他随后宣布退出。", "此外,OpenAI改组。"):
        start = text.index(part, start)
        out.append(Sentence(chunk_id="d#0", text=part, start=start, end=start + len(part), language="zh",
                            embedding=[1.0, 0.0] if len(out) % 2 == 0 else [0.0, 1.0]))
        start += len(part)
    return out


def test_pointing_back_needs_the_same_paragraph_and_a_pointing_word() -> None:
    sents = _sentences(TEXT)
    assert points_back(sents, 1, TEXT)
    assert not points_back(sents, 2, TEXT)  # "他" opens a new paragraph
    assert not points_back(sents, 3, TEXT)  # "此外" (moreover) points nowhere
    assert not points_back(sents, 0, TEXT)


def test_a_unit_brings_the_antecedent_and_an_eligible_follow_on() -> None:
    sents = _sentences(TEXT)
    assert unit(sents, 1, TEXT, lambda j: False) == (0, 1)
    assert unit(sents, 0, TEXT, lambda j: True) == (0, 1)
    assert unit(sents, 0, TEXT, lambda j: False) == (0, 0)
    assert unit(sents, 2, TEXT, lambda j: True) == (2, 2)


def test_a_joined_unit_is_verbatim_at_its_span() -> None:
    sents = _sentences(TEXT)
    s = joined(sents[0:2], TEXT)
    assert s.text == TEXT[s.start : s.end] == "彼时,马斯克提出收购意向。这一提议遭到了一致拒绝。"
    assert s.embedding == [0.5, 0.5]
    assert joined(sents[2:3], TEXT) is sents[2]


def test_a_relation_word_counts_in_any_of_its_words() -> None:
    from rag.answer.relations import relation_forms

    assert {"占股", "持股", "股权"} <= set(relation_forms("股份"))
    assert relation_forms("stake") == relation_forms("股份")
    assert relation_forms("hold") == [] and relation_forms("微软") == []


def test_a_figure_counts_only_for_the_relation_asked() -> None:
    from rag.answer.relations import relations_asked, states_asked_figure

    stake = relations_asked("微软持有OpenAI多少股份？")
    assert stake == {"stake"}
    assert states_asked_figure("为了避免审查,微软只占股 49%。", stake)
    assert not states_asked_figure("微软投了数十亿美元给 OpenAI。", stake)  # a figure, but of an investment
    assert not states_asked_figure("2015年,微软持有股份。", stake)  # a year is not a figure
    assert not states_asked_figure("微软只占股 49%。", set())


def test_how_much_prefers_the_sentence_stating_the_figure_asked() -> None:
    """Of two sentences as similar to the question, the one that states the stake's figure scores higher;
    with the figure bonus off, the one that merely names the stake and the company does. (The question also
    asks why, so both stay evidence.)"""
    from rag.answer.evidence import select
    from rag.models import Passage

    text = "尽管微软在该公司拥有大量股份,但员工对待它如外部供应商。微软只占股 49%。"
    first, second = "尽管微软在该公司拥有大量股份,但员工对待它如外部供应商。", "微软只占股 49%。"
    sents = [Sentence(chunk_id="d#0", text=t, start=text.index(t), end=text.index(t) + len(t), language="zh",
                      score=score) for t, score in ((first, 0.43), (second, 0.36))]
    passage = Passage(n=1, chunk_id="d#0", doc_id="d", title="t", text=text, language="zh")
    question = "微软持有多少股份，为什么？"

    def best(**weights: float) -> str:
        ev = select(question, question, [question], "how_much", [passage], {"d#0": sents}, lambda w: True, **weights)
        return max(ev.items, key=lambda it: it.sentence.score).sentence.text

    assert best() == second
    assert best(figure_weight=0.0) == first


def test_a_figure_is_an_amount_or_a_count_not_a_date_or_a_duration() -> None:
    from rag.answer.relations import states_figure

    for text in ("约20名高管离开", "11位联合创始人", "三家公司", "about 20 executives left", "He gave $45 million",
                 "微软只占股 49%", "马斯克知道 AGI极其烧钱,需要数十亿美元投入", "it needs billions of dollars"):
        assert states_figure(text), text
    for text in ("2015年,OpenAI成立", "In 2018 he left", "2月29日起诉", "在接下来的6-12个月内", "at 5 pm",
                 "这是一家专注于聊天机器人的AI初创公司", "千万不要这么做", "亿万富翁马斯克"):  # 一家: "an", not a count
        assert not states_figure(text), text


def test_a_how_much_question_whose_evidence_states_no_figure_is_refused() -> None:
    """However similar the evidence, it cannot say how much without a figure of what is asked."""
    from rag.answer.evidence import select
    from rag.answer.refusal import RefusalPolicy
    from rag.models import Passage

    def evidence(question: str, kind: str, sentence: str):
        sents = [Sentence(chunk_id="d#0", text=sentence, start=0, end=len(sentence), language="zh", score=0.6)]
        passage = Passage(n=1, chunk_id="d#0", doc_id="d", title="t", text=sentence, language="zh")
        return select(question, question, [question], kind, [passage], {"d#0": sents}, lambda w: True)

    policy = RefusalPolicy({"zh": 0.3})
    invests = "特斯拉将对X.ai进行投资,并成为少数股权持有者。"
    assert policy.refuse(evidence("特斯拉向X.ai投资了多少钱？", "how_much", invests), "zh")
    assert not policy.refuse(evidence("特斯拉为什么向X.ai投资？", "why", invests), "zh")
    assert not policy.refuse(evidence("特斯拉向X.ai投资了多少钱？", "how_much", "特斯拉向X.ai投资了10亿美元。"), "zh")
    assert policy.refuse(evidence("特斯拉向X.ai投资了多少钱？", "how_much", "特斯拉向X.ai捐了10亿美元。"), "zh")  # not an investment
    assert not policy.refuse(evidence("OpenAI有多少员工？", "how_much", "OpenAI约有20名员工。"), "zh")


def test_a_how_much_question_is_not_answered_by_a_figure_about_others() -> None:
    """Musk's 974亿美元 for OpenAI does not say what Meta offered Character.ai; a sentence naming one
    of the question's names (or standing next to one) may."""
    from rag.answer.evidence import select
    from rag.models import Passage

    def states_figure(question: str, *texts: str) -> bool:
        sents, start, text = [], 0, "".join(texts)
        for t in texts:
            sents.append(Sentence(chunk_id="d#0", text=t, start=start, end=start + len(t), language="zh", score=0.6))
            start += len(t)
        passage = Passage(n=1, chunk_id="d#0", doc_id="d", title="t", text=text, language="zh")
        return select(question, question, [question], "how_much", [passage], {"d#0": sents}, lambda w: True).states_figure

    offer = "近日,马斯克向OpenAI发出了一份高达974亿美元的收购要约。"
    assert not states_figure("How much money did Meta offer Character.ai?", offer)
    assert states_figure("How much did Musk offer for OpenAI?", offer)
    assert states_figure("马斯克出价多少收购OpenAI？", offer)
    assert states_figure("How much did Musk offer for OpenAI?", "马斯克再次出手。", "他出价974亿美元。")  # the one before names him


def test_a_how_many_question_needs_a_sentence_counting_what_it_asks_about() -> None:
    """Sentences about OpenAI's staff that count nothing, or count something else, do not say how many."""
    from rag.answer.evidence import select
    from rag.answer.refusal import RefusalPolicy
    from rag.models import Passage

    def refused(question: str, sentence: str) -> bool:
        language = "en" if question.isascii() else "zh"
        sents = [Sentence(chunk_id="d#0", text=sentence, start=0, end=len(sentence), language=language, score=0.6)]
        passage = Passage(n=1, chunk_id="d#0", doc_id="d", title="t", text=sentence, language=language)
        ev = select(question, question, [question], "how_much", [passage], {"d#0": sents}, lambda w: True)
        return RefusalPolicy({"en": 0.3, "zh": 0.3}).refuse(ev, language)

    assert not refused("OpenAI有多少名员工？", "OpenAI约有20名员工。")
    assert refused("OpenAI有多少名员工？", "微软内部员工对OpenAI的技术多有抱怨。")
    assert refused("OpenAI有多少名员工？", "OpenAI与20家公司建立了合作。")  # a count of something else
    assert not refused("How many employees does OpenAI have?", "OpenAI has about 20 employees in its office.")
    assert refused("How many employees does OpenAI have?", "OpenAI's employees complain about Microsoft's products.")
    assert not refused("When was it founded, and by how many co-founders?", "OpenAI was founded by 11 co-founders in 2015.")


def test_the_counted_word_is_the_noun_after_how_many() -> None:
    from rag.answer.focus import counted_word

    assert counted_word("How many employees does OpenAI have?") == "employees"
    assert counted_word("马斯克有几个孩子？") == "孩子"
    assert counted_word("去年有多少名高管离职？") == "高管"
    assert counted_word("How much did Musk give?") is None  # an amount, read by rag.answer.relations
    assert counted_word("马斯克捐了多少钱？") is None


def test_every_figure_of_the_relation_asked_is_evidence_within_a_wider_margin() -> None:
    """Sources disagree on how much Musk gave: the lower-scored figure of a gift is shown beside the best."""
    from rag.answer.evidence import select
    from rag.models import Passage

    best, other, unrelated = ("马斯克称他累计捐赠超过4400万美元。", "但最后只给了4500万美元。", "OpenAI估值达到300亿美元。")
    text = best + other + unrelated
    sents = [Sentence(chunk_id="d#0", text=t, start=text.index(t), end=text.index(t) + len(t), language="zh",
                      score=score) for t, score in ((best, 0.80), (other, 0.72), (unrelated, 0.72))]
    passage = Passage(n=1, chunk_id="d#0", doc_id="d", title="t", text=text, language="zh")
    question = "马斯克捐了多少钱？"
    ev = select(question, question, [question], "how_much", [passage], {"d#0": sents}, lambda w: True)
    assert [it.sentence.text for it in ev.items] == [best, other]  # the valuation is no gift


def test_a_quote_after_a_colon_is_content_and_a_metadata_line_is_not() -> None:
    from rag.text import is_content

    assert is_content("人工智能顾问Merav Ozair表示:“开源的意义在于建立一个相互学习的社区,从而推动技术更快、更好地发展。")
    assert is_content("答案2：Character.ai与Meta或xAI中的任何一个合作可能会加速AGI的研究。")
    assert is_content("Kwon写道:“我们认为马斯克后悔没有继续参与公司发展……")
    assert not is_content("来源：界面新闻")
    assert not is_content("date: 2024-03-01")


def test_a_sentence_ending_with_a_colon_brings_what_it_introduces_across_the_paragraph_break() -> None:
    from rag.answer.extractive import compose
    from rag.models import EvidenceItem

    text = "马斯克分享了他对三家公司之间关系的看法：\n\n“它们之间也有可能有类似的合作。”\n此外,OpenAI改组。"
    parts = ["马斯克分享了他对三家公司之间关系的看法：", "“它们之间也有可能有类似的合作。”", "此外,OpenAI改组。"]
    sents = [Sentence(chunk_id="d#0", text=p, start=text.index(p), end=text.index(p) + len(p), language="zh")
             for p in parts]
    assert unit(sents, 0, text, lambda j: False) == (0, 1)
    assert unit(sents, 1, text, lambda j: False) == (1, 1)
    s = joined(sents[0:2], text)
    assert s.text == text[s.start : s.end]
    shown = compose([EvidenceItem(n=1, sentence=s)], "zh")
    assert "看法： “它们" in shown and shown.count("\n") == 1  # one bullet, on one line


def test_a_sentence_ending_with_a_colon_is_scored_with_what_it_introduces() -> None:
    from rag.answer.evidence import as_shown, score

    text = "然而,奥特曼回应道:\n“我们可以以97.4亿美元收购Twitter。”\n此外,OpenAI改组。"
    parts = [("然而,奥特曼回应道:", 0.30), ("“我们可以以97.4亿美元收购Twitter。”", 0.25), ("此外,OpenAI改组。", 0.40)]
    sents = [Sentence(chunk_id="d#0", text=p, start=text.index(p), end=text.index(p) + len(p), language="zh",
                      score=v) for p, v in parts]
    shown = as_shown(sents, 0, text)
    assert shown.text == text[: text.index("此外") - 1] and shown.score == 0.30  # the better similarity of the two
    topic = [["twitter"], ["收购"]]
    assert score(shown, topic, "how", 1) > score(sents[0], topic, "how", 1)  # the reply's words count
    assert as_shown(sents, 2, text) is sents[2]  # a sentence introducing nothing is scored alone


def _select(question: str, kind: str, scored: list[tuple[str, float]], standalone: str | None = None):
    """Evidence for ``question`` from one Chinese passage of the ``scored`` sentences; ``standalone`` is the
    question as searched (a follow-up joined to an earlier question), the question itself by default."""
    from rag.answer.evidence import select
    from rag.models import Passage

    text = "".join(t for t, _ in scored)
    sents = [Sentence(chunk_id="d#0", text=t, start=text.index(t), end=text.index(t) + len(t), language="zh",
                      score=score) for t, score in scored]
    passage = Passage(n=1, chunk_id="d#0", doc_id="d", title="t", text=text, language="zh")
    return select(question, standalone or question, [question], kind, [passage], {"d#0": sents}, lambda w: True)


def test_a_question_asking_only_how_much_is_answered_by_the_sentences_stating_the_figure() -> None:
    """"How much stake" is answered by 49%; the more similar sentence that names the stake without a
    figure is no answer, but the model's check still reads it (with 49% alone it said no), best first.
    A question that also asks why keeps both, the figure first."""
    vague, figure = "尽管微软在该公司拥有大量股份,但员工对待它如外部供应商。", "为了避免审查,微软只占股 49%。"
    ev = _select("微软持有OpenAI多少股份？", "how_much", [(vague, 0.80), (figure, 0.50)])
    assert [it.sentence.text for it in ev.items] == [figure]
    assert ev.checked == [vague, figure]
    ev = _select("微软持有OpenAI多少股份，为什么？", "how_much", [(vague, 0.80), (figure, 0.50)])
    assert [it.sentence.text for it in ev.items] == [figure, vague]
    assert ev.checked == []
    # a follow-up searched joined to the how-much question asks what it asks itself
    follow_up = "这种安排对双方各有什么好处？"
    ev = _select(follow_up, "how_much", [(vague, 0.80), (figure, 0.50)], f"微软持有OpenAI多少股份？ {follow_up}")
    assert {it.sentence.text for it in ev.items} == {figure, vague}


def test_the_model_check_reads_the_evidence_in_score_order_not_the_display_order() -> None:
    from rag.answer.refusal import ask_model

    vague, figure = "尽管微软在该公司拥有大量股份,但员工对待它如外部供应商。", "为了避免审查,微软只占股 49%。"
    ev = _select("微软持有OpenAI多少股份？", "how_much", [(vague, 0.80), (figure, 0.50)])
    seen: list[str] = []

    class Gate:
        def invoke(self, inputs, config=None):
            seen.append(inputs["sentences"])
            raise RuntimeError("no server")

    assert ask_model(Gate(), ev) == (None, None)
    assert seen and seen[0].index(vague) < seen[0].index(figure)


def test_a_when_question_leads_with_the_dated_sentence_and_keeps_the_others() -> None:
    undated, dated = "马斯克因特斯拉的快速发展而退出OpenAI董事会。", "因此在2018年选择退出OpenAI董事会。"
    ev = _select("马斯克是哪一年退出OpenAI董事会的？", "when", [(undated, 0.60), (dated, 0.55)])
    assert [it.sentence.text for it in ev.items] == [dated, undated]
    assert [it.n for it in ev.items] == [1, 1]


def test_a_question_can_ask_several_things() -> None:
    from rag.retrieval.question import kinds

    assert kinds("微软持有OpenAI多少股份？") == {"how_much"}
    assert kinds("What stake does Microsoft hold in OpenAI, and why is it capped there?") == {"how_much", "why"}
    assert kinds("When did he file it?") == {"when"}
    assert kinds("马斯克带领的投资者是在几月几日提交收购提案的？") == {"when"}  # 几月几日 asks a date, not how many
    assert "how_much" in kinds("这件事花了几个月？")
    assert kinds("Tell me about xAI.") == set()


def test_a_how_many_question_asked_about_now_still_needs_a_count() -> None:
    """"currently" makes the kind "latest", but the question still asks how many: evidence that
    robots are in use, with no number, does not answer it."""
    from rag.answer.refusal import RefusalPolicy

    question = "How many Optimus robots is Tesla currently running in its factories?"
    sentence = "Tesla's Optimus robots are already at work in its factories."
    assert not _select_en(question, "latest", sentence).states_figure
    assert _select_en(question, "latest", "Tesla runs 20 Optimus robots in its factories.").states_figure
    assert RefusalPolicy({"en": 0.3}).refuse(_select_en(question, "latest", sentence), "en")


def test_a_why_question_is_answered_first_by_the_sentences_stating_a_cause() -> None:
    """The more similar sentence about Musk's offer states no cause: it stays, after the one that does."""
    offer = "近日,马斯克向OpenAI发出了一份收购要约,但遭到奥特曼的拒绝。"
    cause = "随着时间推移,马斯克因特斯拉在自动驾驶技术领域的快速发展而退出OpenAI董事会。"
    ev = _select("马斯克为什么这样做？", "why", [(offer, 0.80), (cause, 0.70)])  # the cue (+0.05) does not lift it
    assert [it.sentence.text for it in ev.items] == [cause, offer]
    ev = _select("马斯克做了什么？", "other", [(offer, 0.80), (cause, 0.70)])
    assert [it.sentence.text for it in ev.items] == [offer, cause]  # not a why question: as scored


def test_a_worry_is_a_cause() -> None:
    """"Why did OpenAI tell Microsoft to slow down?" is answered by what OpenAI feared."""
    from rag.retrieval.question import CUES

    worry = "OpenAI 最担心的是 Bing 的聊天机器人可能会给出不准确或精神错乱的回答。"
    other = "据报道,OpenAI 曾建议微软放慢将其人工智能技术与 Bing 整合的速度。"
    ev = _select("OpenAI为什么这样建议？", "why", [(other, 0.80), (worry, 0.70)])
    assert [it.sentence.text for it in ev.items][0] == worry
    assert CUES["why"].search("OpenAI was worried the chatbot would give inaccurate answers")


def _select_en(question: str, kind: str, sentence: str):
    from rag.answer.evidence import select
    from rag.models import Passage

    sents = [Sentence(chunk_id="d#0", text=sentence, start=0, end=len(sentence), language="en", score=0.6)]
    passage = Passage(n=1, chunk_id="d#0", doc_id="d", title="t", text=sentence, language="en")
    return select(question, question, [question], kind, [passage], {"d#0": sents}, lambda w: True)


def test_a_follow_up_joined_to_an_earlier_how_much_question_asks_only_what_it_asks() -> None:
    """Offline, a follow-up is searched joined to the earlier question; the earlier "多少股份" must not
    make "why" evidence need a figure (it was refused in the app)."""
    question = "Why did Musk leave OpenAI?"
    ev = _select(question, "why", [("马斯克认为OpenAI成功的可能性很低,因此选择离开。", 0.6)], f"微软持有OpenAI多少股份？ {question}")
    assert ev.states_figure


def test_a_follow_on_that_says_when_completes_its_sentence() -> None:
    """"也许这会在接下来的6-12个月内发生" points back and says when: it joins the chosen sentence even
    scored far below it; for a question of another kind it does not."""
    chosen, follow_on, other = "我猜测X.ai还需要一些时间来发布其第一个LLM。", "也许这会在接下来的6-12个月内发生。", "特斯拉有自己的芯片。"
    scored = [(chosen, 0.70), (follow_on, 0.20), (other, 0.10)]
    ev = _select("X.ai什么时候会发布第一个LLM？", "when", scored)
    assert ev.items[0].sentence.text == chosen + follow_on
    ev = _select("X.ai是谁创办的？", "who", scored)
    assert ev.items[0].sentence.text == chosen


def test_a_sentence_pointing_back_after_an_adverb_is_one_unit_with_its_antecedent() -> None:
    text = "马斯克提出收购意向。但这一提议遭到了拒绝。"
    parts = ["马斯克提出收购意向。", "但这一提议遭到了拒绝。"]
    sents = [Sentence(chunk_id="d#0", text=p, start=text.index(p), end=text.index(p) + len(p), language="zh")
             for p in parts]
    assert points_back(sents, 1, text)
    assert unit(sents, 1, text, lambda j: False) == (0, 1)


def test_a_question_asking_two_things_is_compound() -> None:
    from rag.retrieval.question import compound

    assert compound("When did DuckDuckGo launch DuckAssist, and what powered it?")
    assert compound("微信文章作者认为马斯克愿意用谷歌的大模型吗？他设想的替代方案是什么？")
    assert compound("微软持有多少股份，为什么？")
    assert not compound("Why did Musk leave OpenAI?")
    assert not compound("马斯克为什么离开OpenAI？")


def test_a_compound_question_keeps_evidence_a_little_further_below_the_best() -> None:
    """The second thing asked is said by a sentence less like the whole question than the first's."""
    first, second, unrelated = "3月初,DuckDuckGo发布了DuckAssist。", "和其他产品一样,DuckAssist也由ChatGPT驱动。", "谷歌没有授权其技术。"
    scored = [(first, 0.70), (second, 0.66), (unrelated, 0.30)]
    texts = lambda q: [it.sentence.text for it in _select(q, "when", scored).items]  # noqa: E731
    assert texts("DuckDuckGo什么时候发布了DuckAssist？由什么驱动？") == [first, second]
    assert texts("DuckDuckGo什么时候发布了DuckAssist？") == [first]


def test_a_sentence_another_passage_holds_whole_is_quoted_once_whole() -> None:
    """A passage that ends after "…回应道:" holds the sentence without the reply it introduces; the next
    passage (chunks overlap) holds both. The reply is quoted once, whole, wherever it ranks."""
    from rag.answer.evidence import select
    from rag.models import Passage

    colon, reply, other = "然而,奥特曼以讽刺的方式回应道:", "“我们可以以97.4亿美元收购Twitter。”", "此外,OpenAI改组。"
    cut, whole = f"{other}{colon}", f"{colon}\n{reply}"
    passages, sentences = [], {}
    for n, (text, parts) in enumerate([(cut, [(other, 0.2), (colon, 0.6)]), (whole, [(colon, 0.6), (reply, 0.5)])], 1):
        cid = f"d#{n}"
        passages.append(Passage(n=n, chunk_id=cid, doc_id="d", title="t", text=text, language="zh"))
        sentences[cid] = [Sentence(chunk_id=cid, text=t, start=text.index(t), end=text.index(t) + len(t),
                                   language="zh", score=v) for t, v in parts]
    ev = select("奥特曼怎么回应的？", "奥特曼怎么回应的？", [], "how", passages, sentences, lambda w: True)
    quoted = [it.sentence.text for it in ev.items]
    assert quoted.count(whole) == 1 and colon not in quoted, quoted


def test_one_how_much_of_several_relations_asks_the_nearest() -> None:
    from rag.answer.relations import relations_asked

    assert relations_asked("人形机器人公司Figure这轮融资后估值是多少？") == {"valued"}  # not the raise
    assert relations_asked("How much was Figure valued at after it raised money?") == {"valued"}
    assert relations_asked("Figure融资多少？估值多少？") == {"raised", "valued"}  # two asked: both
    assert relations_asked("What did Musk promise and what did he give?") == {"promised", "gave"}  # no how much


def test_a_how_much_question_whose_evidence_states_another_relations_figure_is_refused(seeds_chain) -> None:
    """The article states Figure's raise (6.75亿美元融资), not its valuation."""
    answer = seeds_chain.ask("人形机器人公司Figure这轮融资后估值是多少？")
    assert answer.refused and not answer.citations, answer.answer


def test_a_what_is_question_leads_with_the_sentence_saying_what_the_thing_is() -> None:
    """"What is Grok?" was answered with an opinion about Grok (the most similar sentence) and not with
    "…开发了一款名为Grok的'反觉醒'人工智能模型" (what Grok is), which fell outside the margin."""
    from rag.retrieval.question import asked_name, cue_for, kind

    assert kind("What is Grok?") == kind("Grok是什么？") == kind("什么是DuckAssist？") == "what_is"
    assert asked_name("What is xAI?") == "xAI" and asked_name("What is it?") is None
    assert kind("What is the weather in Paris tomorrow?") == "other"
    assert cue_for("what_is", "What is xAI?").search("X.ai是埃隆·马斯克创办的一家新型人工智能公司")  # dots and case
    assert cue_for("what_is", "What is Character.ai?").search("partnerships with Character.ai, an AI start-up")
    assert not cue_for("what_is", "What is xAI?").search("with Character.ai, an AI start-up")  # says what another is
    opinion = "尽管许多人认为Grok反映了马斯克的政治倾向,但他本人坚称,人工智能必须寻求真相。"
    defined = "2023年,马斯克的xAI开发了一款名为Grok的人工智能模型。"
    ev = _select("What is Grok?", "what_is", [(opinion, 0.55), (defined, 0.40)])
    assert [it.sentence.text for it in ev.items] == [defined, opinion]
    ev = _select("What is Grok?", "other", [(opinion, 0.55), (defined, 0.40)])
    assert [it.sentence.text for it in ev.items] == [opinion]  # without the kind: outside the margin


def test_what_counts_as_a_name_among_a_questions_topic_words() -> None:
    """A capital anywhere makes a name ("xAI" was a topic word, so "How much money had xAI raised as of
    the January reports…" was refused: its 5亿美元 sentence did not name "January"); a month is a date;
    the glossary's lower-case terms ("lawsuit", "leave") are topic words, names in any spelling are names."""
    from rag.answer.evidence import is_name

    assert is_name(["xAI"]) and is_name(["Musk"]) and is_name(["musk"]) and is_name(["马斯克"])
    assert not is_name(["January"]) and not is_name(["Friday"])
    assert not is_name(["lawsuit"]) and not is_name(["leave"]) and not is_name(["money"])


def test_a_glossary_phrase_is_one_topic_word_in_all_its_spellings() -> None:
    """"open source" is 开源, not "open" (开放, 开展…) and "source" (能源, 知情人): Ozair's sentence
    ("人工智能顾问Merav Ozair表示:“开源的意义在于…") ranked under a lawsuit sentence that said 开源 once."""
    from rag.answer.evidence import topic_words

    topic = topic_words("Who was the AI consultant who said open source always wins?", lambda w: True)
    assert ["open source", "open-source", "开源"] in topic
    assert not any(forms[0] in {"open", "source"} for forms in topic)


def test_a_chinese_questions_filler_words_are_no_topic_and_a_complaint_is_the_lawsuit() -> None:
    """"马斯克在起诉书里具体要求OpenAI做哪些事？": 具体 ("specifically") asks, and 起诉书 is the 诉状 the article
    writes; the sentence listing his demands ("…仔细看马斯克提起的诉状…他要求OpenAI赔偿…") then covers every topic word."""
    from rag.answer.evidence import coverage, topic_words
    from rag.text import keyword_tokens

    topic = topic_words("马斯克在起诉书里具体要求OpenAI做哪些事？", lambda w: True)
    assert not any("具体" in forms for forms in topic)
    demands = "仔细看马斯克提起的诉状,他斥责奥尔特曼违反信托义务,他要求OpenAI赔偿,并面向公众开源。"
    assert coverage(topic, set(keyword_tokens(demands))) == 1.0


def test_chinese_words_read_from_either_side() -> None:
    """``segment`` keeps one reading where the two directions disagree; ``readings`` has both."""
    from rag.retrieval.translate import readings, segment

    assert "现在" not in segment("马斯克现在身家大概多少")
    assert {"现在", "在身"} <= set(readings("马斯克现在身家大概多少"))


def test_a_quoted_phrase_is_found_as_written() -> None:
    """A phrase the question quotes (four Chinese characters, or three words, or more) must be held as
    written: "OpenAI and Elon Musk", a title, is not in every sentence naming OpenAI and Elon Musk."""
    from rag.retrieval.question import holds_phrase, quoted

    assert quoted("说微软和OpenAI“都将试图用类似的产品赚钱”的是哪位专家？") == ["都将试图用类似的产品赚钱"]
    assert quoted('Who said "open source always wins"?') == ["open source always wins"]
    assert quoted('What does the "open" in OpenAI mean, and what is Musk\'s view?') == []
    assert holds_phrase("「冲突在于他们都将试图用类似的产品赚钱。」", ["都将试图用类似的产品赚钱"])
    assert holds_phrase("Open source always wins, he said.", ["open source  always wins"])
    assert not holds_phrase("特斯拉创始人埃隆·马斯克(Elon Musk)向OpenAI发出了收购要约", ["OpenAI and Elon Musk"])


def test_parting_ways_asks_why_he_left_but_not_the_other_way_round() -> None:
    """"埃隆·马斯克为何与OpenAI分道扬镳？" asks why Musk left (离开, 退出: the words of the answering sentences);
    "Why did Musk leave OpenAI?" is not also searched for 分道扬镳 ("尽管双方分道扬镳多年…" answers nothing)."""
    from rag.retrieval.glossary import expansions, name_groups

    assert ["leave", "left", "departure", "离开", "退出"] in name_groups("埃隆·马斯克为何与OpenAI分道扬镳？")
    assert {"离开", "退出"} <= set(expansions("Why did Musk and OpenAI part ways?"))
    assert "分道扬镳" not in expansions("Why did Musk leave OpenAI?")
    # a tweet is on Twitter ("马斯克还在推特上质疑…"); a question about Twitter asks about no tweet
    assert ["Twitter", "推特"] in name_groups("马斯克发推时说OpenAI值多少钱？")
    assert "推特" in expansions("What did Musk say when he tweeted about OpenAI?")
    assert "发推" not in expansions("How much did Musk pay for Twitter?")


def test_a_fact_asked_must_be_stated_in_one_of_its_words() -> None:
    """A salary, a verdict, a marriage, a hearing, or who founded something: a sentence that answers says it
    in one of the fact's words; who founded something is asked only by a who-question."""
    from rag.answer.attributes import asked, unstated

    assert asked("What salary does Sam Altman earn?", "other") == {"salary": "salary"}
    assert asked("Who founded Figure?", "who") == {"founded": "founded"}
    assert asked("OpenAI's founders pledged $1 billion. How much did they raise?", "how_much") == {}
    assert unstated("人形机器人公司Figure的创始人是谁？", "who", ["2月29日,人形机器人创企Figure宣布获得6.75亿美元融资。"]) == {
        "founded": "创始"}
    assert unstated("OpenAI是谁创立的？", "who", ["2015年,OpenAI由包括马斯克和奥特曼在内的11位联合创始人共同创立。"]) == {}
    assert unstated("What was the verdict?", "other", ["马斯克在旧金山法院提起诉讼。"]) == {"verdict": "verdict"}
    # when someone joined: asked only by a when-question, stated only by a sentence saying they joined
    assert asked("When did Jason Kwon join OpenAI?", "when") == {"joined": "join"}
    assert asked("How can I join the reader group?", "how") == {}
    assert unstated("When did Jason Kwon join OpenAI?", "when", ["2015年,OpenAI由11位联合创始人共同创立。"]) == {
        "joined": "join"}
    assert unstated("Jason Kwon是什么时候加入OpenAI的？", "when", ["他于2019年加入OpenAI。"]) == {}
    # the fact stated of someone else does not answer: OpenAI's founders are not Character.ai's
    founders = ["2015年,OpenAI由包括马斯克和奥特曼在内的11位联合创始人共同创立。"]
    assert unstated("Who founded Character.ai?", "who", founders, [["Character.ai"]]) == {"founded": "founded"}
    assert unstated("Who founded OpenAI?", "who", founders, [["OpenAI"]]) == {}


def test_a_quotation_is_told_open_or_closed_across_sentences() -> None:
    """Evidence quotes a quotation whole (``rag.answer.evidence.unit``): where it opens and where it closes."""
    from rag.text import quote_opened_before, quote_runs_on

    quote = ["人工智能顾问Merav Ozair表示:“开源的意义在于建立一个相互学习的社区,从而推动技术更快、更好地发展。",
             "开源总是‘胜利’。”", "随着争论愈演愈烈,开源AI正迅速崛起。"]
    assert [quote_runs_on(quote, i) for i in range(3)] == [1, 0, 0]
    assert quote_runs_on(["他说:“这一句没有结束。", "第二句。", "第三句。", "第四句。"], 0) == 0  # not closed within two
    told = ["或者告诉《纽约时报》的某位记者:「事实上,你的婚姻并不幸福。", "你的配偶和你不爱对方…… 事实上,你爱上我了。」"]
    assert [quote_opened_before(told, i) for i in range(2)] == [0, 1]
    assert quote_opened_before(["“一。", "二。", "三。", "四。", "五。”"], 4) == 0  # opened more than three before


def _located(text: str, parts: list[str], scores: list[float] | None = None) -> list[Sentence]:
    """``parts`` (each found in ``text``) as Chinese sentences with their spans and ``scores``."""
    return [Sentence(chunk_id="d#0", text=t, start=text.index(t), end=text.index(t) + len(t), language="zh",
                     score=v) for t, v in zip(parts, scores or [0.0] * len(parts), strict=True)]


def _lines(*lines: str) -> tuple[str, list[Sentence]]:
    text = "\n".join(lines)
    sents = [Sentence(chunk_id="d#0", text=t, start=text.index(t), end=text.index(t) + len(t), language="zh",
                      score=0.5) for t in lines]
    return text, sents


def test_a_list_answering_the_articles_own_question_is_quoted_whole_with_it() -> None:
    """The talent, data and compute lines answer "X.ai、Twitter和特斯拉之间的关系会是怎样的呢？": one unit, at the
    best similarity of its lines. Prose after a question, and a question with one short line, are not lists."""
    from rag.answer.evidence import as_shown

    heading = "X.ai、Twitter和特斯拉之间的关系会是怎样的呢？"
    text, sents = _lines("目前AGI发展主要由两家公司主导。", heading, "X.ai可以提供人才。", "Twitter可以提供数据（至少部分数据）。",
                         "特斯拉可以提供优先计算。", "特斯拉还可以以股权的形式对X.ai进行投资，并获得X.ai开发的人工智能的优先使用权，" * 2)
    assert unit(sents, 2, text, lambda j: False) == (1, 4)  # the long line after the list is not an item
    shown = as_shown(sents, 2, text)
    assert shown.text == text[shown.start : shown.end] and shown.text.startswith(heading)
    prose = "在起诉书中,马斯克将微软在2023年发布的一篇论文列为证据,这篇论文证明ChatGPT可以在律师资格考试中获得及格分数,超过了很多人。"
    text, sents = _lines("第一,现在是AGI时代吗?", prose, "第二,约定是否有效?")
    assert unit(sents, 1, text, lambda j: False) == (1, 1)
    text, sents = _lines("Q2: How might these partnerships impact AGI?", "A2: They could accelerate research in AGI.")
    assert unit(sents, 1, text, lambda j: False) == (1, 1)  # one answer line: no list


def test_prose_answering_the_articles_own_question_of_the_same_kind_is_judged_with_it() -> None:
    """"那为什么不在特斯拉内部开发这个新的LLM呢？" is answered by the paragraph after it, whose words (治理机制,
    少数股东) no question uses: each of its sentences is scored with the question's words, at the question's
    similarity up to the best any sentence has alone; only when the user asks the same kind of thing."""
    from rag.answer.evidence import as_shown, question_before, same_kind

    asked = "那为什么不在特斯拉内部开发这个新的LLM呢？"
    text = f"特斯拉将获益匪浅。\n\n{asked}\n\n我认为特斯拉可能没有建立正确的治理机制……埃隆是特斯拉的少数股东。\n\n另外，开发需要专注。"
    sents = _located(text, ["特斯拉将获益匪浅。", asked, "我认为特斯拉可能没有建立正确的治理机制……", "埃隆是特斯拉的少数股东。",
                            "另外，开发需要专注。"], [0.30, 0.45, 0.20, 0.10, 0.20])
    assert [question_before(sents, i, text) for i in range(5)] == [None, None, 1, 1, None]  # a paragraph break ends it
    shown = as_shown(sents, 3, text, ceiling=0.40, kind="why")
    assert shown.score == 0.40 and asked in shown.text  # capped at the best alone
    assert as_shown(sents, 3, text, ceiling=0.40, kind="when") is sents[3]  # a when question: not its answer
    assert as_shown(sents, 4, text, ceiling=0.40, kind="why") is sents[4]
    assert same_kind("how", "other") and not same_kind("why", "other")
    # a question inside a paragraph asks nothing its next sentence answers
    inline = "他问道：这合法吗？随后他起诉了。"
    assert question_before(_located(inline, ["他问道：这合法吗？", "随后他起诉了。"]), 1, inline) is None


def test_an_ellipsis_inside_a_line_ends_no_quoted_sentence() -> None:
    """The splitter ends a sentence at "……"; when the line goes on, evidence quotes both halves as one."""
    from rag.answer.evidence import unit

    text = "我认为特斯拉可能没有建立正确的治理机制……埃隆是特斯拉的少数股东，他将失去控制。\n另外，开发需要专注。"
    sents = _located(text, ["我认为特斯拉可能没有建立正确的治理机制……", "埃隆是特斯拉的少数股东，他将失去控制。", "另外，开发需要专注。"])
    assert unit(sents, 0, text, lambda j: False) == (0, 1)
    assert unit(sents, 1, text, lambda j: False) == (0, 1)
    assert unit(sents, 2, text, lambda j: False) == (2, 2)  # a new line: its own sentence


def test_a_quote_whose_speaker_is_a_pronoun_is_quoted_with_the_sentence_naming_him() -> None:
    """"「…,」他说。" and the bare quote going on from it bring the sentence before, across the paragraph break,
    that says who "he" is; a sentence merely containing 他说 does not."""
    from rag.answer.evidence import unit

    named = "研究所前首席执行官 Oren Etzioni 告诉《华尔街日报》。"
    said, more, other = "「让他们陷入冲突的是双方都需要赚钱,」他说。", "「冲突在于他们都将试图用类似的产品赚钱。」", "马斯克的贡献并没有他说的那么大。"
    text = f"{named}\n\n{said}{more}\n{other}"
    sents = _located(text, [named, said, more, other])
    assert unit(sents, 2, text, lambda j: False) == (0, 2)
    assert unit(sents, 1, text, lambda j: False) == (0, 1)
    assert unit(sents, 3, text, lambda j: False) == (3, 3)
    english = 'Oren Etzioni told the Journal about it. "They both need to make money," he said.'
    en = _located(english, ["Oren Etzioni told the Journal about it.", '"They both need to make money," he said.'])
    assert unit(en, 1, english, lambda j: False) == (0, 1)
