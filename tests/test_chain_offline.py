"""The offline default: extractive, cited, refusing, following up, on the real seeds index."""

from __future__ import annotations

import pytest

from rag.errors import InputError


@pytest.mark.parametrize(
    "question, doc",
    [
        ("马斯克为什么离开OpenAI？", "002_cf0a488ea6d0060a"),
        ("微软持有OpenAI多少股份？", "003_45c7622f861a0cf2"),
        ("How much did Musk offer to buy OpenAI?", "004_8dfb9935f69a8e59"),
    ],
)
def test_answers_cite_the_right_article_with_verbatim_quotes(seeds_chain, question: str, doc: str) -> None:
    answer = seeds_chain.ask(question)
    assert not answer.refused and answer.citations
    assert doc in {c.doc_id for c in answer.citations}
    by_n = {p.n: p for p in answer.passages}
    for c in answer.citations:
        assert f"[{c.n}]" in answer.answer
        assert by_n[c.n].text[c.span[0] : c.span[1]] == c.quote


def test_answer_language_follows_the_question(seeds_chain) -> None:
    assert seeds_chain.ask("Why did Musk leave OpenAI?").answer.startswith("From the articles")
    assert seeds_chain.ask("马斯克为什么离开OpenAI？").answer.startswith("根据文章")


@pytest.mark.parametrize("question", ["How do I bake sourdough bread?", "今天北京的天气怎么样？",
                                      # naming nothing, with everyday words the dictionary half-matches
                                      "What is the best running shoe for flat feet?",
                                      "Which houseplants are easy to keep alive?"])
def test_unrelated_questions_are_refused_in_their_language(seeds_chain, question: str) -> None:
    answer = seeds_chain.ask(question)
    assert answer.refused and not answer.citations
    assert answer.answer.startswith("The articles don't cover this." if question.isascii() else "文章中没有涉及这个问题。")


def test_offline_follow_up_carries_the_topic(seeds_chain) -> None:
    history = [{"role": "user", "content": "马斯克出价多少收购OpenAI？"}, {"role": "assistant", "content": "974亿美元"}]
    answer = seeds_chain.ask("奥特曼怎么回应他？", history)
    assert "马斯克出价" in (answer.standalone_question or "")
    assert "004_8dfb9935f69a8e59" in {c.doc_id for c in answer.citations}


@pytest.mark.parametrize("question, message", [("", "empty"), ("   \n\t", "empty"), ("x" * 10_001, "limit")])
def test_bad_questions_get_clear_errors(seeds_chain, question: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        seeds_chain.ask(question)


def test_a_sentence_that_points_back_is_quoted_with_what_it_points_to(seeds_chain) -> None:
    """The insiders' reason ("这一提议遭到了……一致拒绝……宣布退出") is quoted with the bid it rejects."""
    answer = seeds_chain.ask("Why did Musk leave OpenAI?")
    quotes = [c.quote for c in answer.citations]
    assert any("提出收购意向" in q and "一致拒绝" in q for q in quotes), quotes
    assert not any(q.startswith("这一提议") for q in quotes)


@pytest.mark.parametrize("question", ["Why did Musk leave OpenAI?", "马斯克为什么离开OpenAI？",
                                      # paraphrases: "part ways", "departure", "reasons" (a why question)
                                      "埃隆·马斯克为何与OpenAI分道扬镳？",
                                      "What reasons do the articles give for Elon Musk's departure from OpenAI?"])
def test_the_headline_question_cites_each_reason_the_articles_give(seeds_chain, question: str) -> None:
    """Issue 12's reasons, each cited to the sentence stating it: the conflict of interest over Tesla's
    self-driving work and Karpathy (he left the board in 2018); the zero chance of success and the AGI
    rival inside Tesla; the bid for control the other founders rejected. Not the 974亿 takeover offer, which
    names Musk and OpenAI but says nothing of his leaving: a why question's causes are said beside what it asks."""
    quotes = " ".join(c.quote for c in seeds_chain.ask(question).citations)
    for said in ("利益冲突", "Karpathy", "2018年", "成功的可能性为零", "AGI 竞争对手", "一致拒绝"):
        assert said in quotes, (said, quotes)
    assert "974亿" not in quotes


def test_a_follow_up_that_names_no_one_leans_on_the_conversation() -> None:
    from rag.answer.followup import leans_on_history

    assert leans_on_history("为什么不多持一些股份？")  # whose shares?
    assert not leans_on_history("微软为什么不多持有一些OpenAI的股份？")
    assert not leans_on_history("Why did Musk leave OpenAI?")  # short, but it names two: it stands alone
    assert leans_on_history("How did Altman respond?")  # to what?
    assert not leans_on_history("Why did Microsoft not take a larger stake in OpenAI?")


OFFER = [{"role": "user", "content": "How much did Musk's group offer to buy OpenAI?"},
         {"role": "assistant", "content": "Elon Musk sent an offer of up to $97.4 billion to OpenAI. [1]"}]


@pytest.mark.parametrize("question", ["Who was the AI consultant who said open source always wins?",
                                      "说开源总是胜利的人工智能顾问是谁？"])
def test_a_new_question_naming_no_one_is_not_joined_to_the_conversation(seeds_chain, question: str) -> None:
    """It names no one, but brings words the conversation never used: it is answered as asked, with
    Ozair's quote, not about Musk's offer."""
    from rag.answer.followup import leans_on_history, stands_alone

    assert not leans_on_history(question, OFFER) and stands_alone(question, OFFER)
    answer = seeds_chain.ask(question, OFFER)
    assert answer.standalone_question == question
    assert "Ozair" in " ".join(c.quote for c in answer.citations)


@pytest.mark.parametrize("question, leans", [
    ("Who else was in the investor group?", True),  # two topic words, one of them said
    ("What was the reason given in the emails?", True),
    ("Switching gears: what was DeepSeek's new AI product built on?", False),
    ("另外想问下，DuckDuckGo这类搜索引擎为什么那么依赖必应？", False),  # 这类 points at DuckDuckGo
    ("那他为什么离开了？", True),
    ("那么他后来怎么做的？", True),  # 那么 opening a sentence: "so"
])
def test_what_leans_on_the_conversation(question: str, leans: bool) -> None:
    from rag.answer.followup import leans_on_history

    assert leans_on_history(question, OFFER) is leans


def test_so_much_and_a_described_article_are_no_pointers() -> None:
    from rag.answer.followup import refers_back

    assert not refers_back("为什么搜索引擎那么依赖必应？") and refers_back("那他为什么离开了？")
    assert not refers_back("那篇讲Meta和xAI争夺Character.ai的FT文章里，Meta原来叫什么？")  # it says which
    assert refers_back("那篇文章里，Meta原来叫什么？")


def test_traditional_questions_are_searched_with_mainland_words(seeds_chain) -> None:
    from rag.retrieval.question import for_search

    assert for_search("馬斯克的人工智慧公司叫什麼名字？") == "马斯克的人工智能公司叫什么名字？"
    assert for_search("这部影片讲了什么？") == "这部影片讲了什么？"  # Simplified text is left as it is
    answer = seeds_chain.ask("馬斯克的人工智慧公司叫什麼名字？")
    assert not answer.refused and answer.citations
    assert "xAI" in answer.answer or "X.ai" in answer.answer
    assert "馬斯克" in answer.answer and "马斯克" not in answer.answer  # written back in the user's script


def test_a_traditional_when_question_gets_its_dates_note_in_traditional_too(seeds_chain) -> None:
    """The note listing the dates the articles state is appended after the answer; the final answer
    (what the app keeps in its history and `rag ask --json` prints) has it in the user's script too."""
    answer = seeds_chain.ask("馬斯克什麼時候起訴OpenAI？")
    assert not answer.refused and "2月29日" in answer.answer
    assert "界面新聞" in answer.answer and "界面新闻" not in answer.answer, answer.answer


def test_a_follow_ups_connective_is_not_what_it_asks_about(seeds_chain) -> None:
    """"他后来起诉了谁？" asks who he sued: 后来 (later), which no article writes, is no topic word, so
    the question is answered, not refused as "文章中没有提到后来"."""
    history = [{"role": "user", "content": "马斯克为什么离开OpenAI？"}, {"role": "assistant", "content": "因为利益冲突。 [1]"}]
    answer = seeds_chain.ask("他后来起诉了谁？", history)
    assert not answer.refused and "提起诉讼" in answer.answer


def test_the_condense_call_reads_the_conversation_as_a_transcript_and_wants_a_rewrite_that_uses_it() -> None:
    from rag.answer.followup import transcript, usable_rewrite

    history = [{"role": "user", "content": "微软在OpenAI持股多少？"}, {"role": "assistant", "content": "- 微软只持有49%的股份。 [1]"}]
    assert transcript(history) == "User: 微软在OpenAI持股多少？\nAssistant: 微软只持有49%的股份。"
    assert usable_rewrite("为什么微软只持有OpenAI 49%的股份？", "为什么不多持一些股份？", history)
    assert not usable_rewrite("为什么不多持一些股份？", "为什么不多持一些股份？", history)  # handed back
    assert not usable_rewrite("这发生在哪天？", "这是哪天发生的？",  # reworded, "这" still unresolved
                              [{"role": "user", "content": "OpenAI是怎么回应马斯克的起诉的？"},
                               {"role": "assistant", "content": "OpenAI选择了冷处理的态度。"}])
    assert not usable_rewrite("微软认为OpenAI很重要。", "为什么不多持一些股份？", history)  # an answer
    assert not usable_rewrite("微软在OpenAI持股多少？", "为什么不多持一些股份？", history)  # the earlier question
    # the transcript's labels are not words of the conversation
    assert not usable_rewrite("What did the user ask?", "What was that?", history)
    # a rewrite that drops every word the follow-up adds asks the earlier question again
    offer = [{"role": "user", "content": "How much did Musk's group offer to buy OpenAI?"},
             {"role": "assistant", "content": "Musk offered $97.4 billion, but Sam Altman rejected the offer. [1]"}]
    assert not usable_rewrite("What did Sam Altman do when Elon Musk offered him $97.4 billion to buy the company?",
                              "How did Altman respond?", offer)
    assert usable_rewrite("How did Sam Altman respond to Musk's offer to buy OpenAI?", "How did Altman respond?", offer)
    assert usable_rewrite("What was Sam Altman's response to Musk's offer?", "How did Altman respond?", offer)
    # a Chinese rewrite that keeps none of the follow-up's own words answers or re-asks the earlier question
    paper = [{"role": "user", "content": "马斯克在诉状里用什么证明GPT-4已经是AGI？"},
             {"role": "assistant", "content": "他引用了微软的一篇论文。 [1]"}]
    assert not usable_rewrite("微软在哪一年发表了证明GPT-4是AGI的论文？", "文章作者认同这个观点吗？", paper)
    assert usable_rewrite("文章作者认同马斯克说GPT-4已经是AGI的观点吗？", "文章作者认同这个观点吗？", paper)
    # a pronoun refers to someone the latest question named
    said_back = offer + [{"role": "user", "content": "What did Altman say back?"},
                         {"role": "assistant", "content": "He joked that OpenAI could buy Twitter. [1]"}]
    assert not usable_rewrite("Why did Elon Musk reject the offer from OpenAI?", "Why did he reject it?", said_back)
    assert usable_rewrite("Why did Sam Altman reject Musk's offer?", "Why did he reject it?", said_back)
    assert usable_rewrite("为什么微软不持有更多的股份？", "为什么不多持一些股份？",
                          [{"role": "user", "content": "微软在OpenAI持股多少？"}, {"role": "assistant", "content": "49%。"}])


def test_a_follow_up_is_answered_by_what_it_asks_now(seeds_chain) -> None:
    """The issue's example: "How did Altman respond?" after the question about Musk's offer is answered
    with Altman's reply, not with the offer again (the joined question is mostly the offer question; the
    follow-up's own words also score the sentences)."""
    q1 = "How much did Musk's group offer to buy OpenAI?"
    history = [{"role": "user", "content": q1}, {"role": "assistant", "content": seeds_chain.ask(q1).answer}]
    answer = seeds_chain.ask("How did Altman respond?", history)
    assert not answer.refused and answer.citations
    assert "讽刺" in answer.citations[0].quote, answer.citations[0].quote


def test_a_follow_up_that_turns_to_something_new_is_answered_about_it(seeds_chain) -> None:
    """"What is Grok?" asked after a conversation about Altman's reply to Musk's offer was answered with
    Altman's reply (the joined question is mostly the earlier one). A follow-up naming someone or
    something the conversation never named is also searched as typed, and answered from sentences
    about what it names."""
    history: list[dict[str, str]] = []
    for q in ("How much did Musk's group offer to buy OpenAI?", "How did Altman respond?"):
        history += [{"role": "user", "content": q}, {"role": "assistant", "content": seeds_chain.ask(q, history).answer}]
    answer = seeds_chain.ask("What is Grok?", history)
    assert not answer.refused and answer.citations
    assert all("Grok" in c.quote for c in answer.citations), [c.quote for c in answer.citations]
    assert "名为Grok" in answer.citations[0].quote  # what Grok is, first


def test_a_quoted_phrase_finds_its_own_sentence(seeds_chain) -> None:
    """"说微软和OpenAI“都将试图用类似的产品赚钱”的是哪位专家？": the passage holding the quote was not
    among the 25 candidates (the embedder places the quote far from the question), and the answer
    quoted sales teams instead. The sentence holding the quoted words, as written, comes first."""
    answer = seeds_chain.ask("说微软和OpenAI“都将试图用类似的产品赚钱”的是哪位专家？")
    assert not answer.refused and answer.citations
    assert "都将试图用类似的产品赚钱" in answer.citations[0].quote, [c.quote for c in answer.citations]


def test_a_quote_is_quoted_whole(seeds_chain) -> None:
    """A quotation running over two sentences was cut after the first ("开源的意义在于…发展。" without
    "开源总是‘胜利’。”"), or began at its last ("事实上,你爱上我了。」", without "或者告诉《纽约时报》的某位记者:「…")."""
    answer = seeds_chain.ask("人工智能顾问Merav Ozair如何评价开源？")
    assert not answer.refused and "开源总是‘胜利’。”" in answer.citations[0].quote, [c.quote for c in answer.citations]
    answer = seeds_chain.ask("“事实上，你爱上我了”这句话是谁对谁说的？")
    assert answer.citations[0].quote.startswith("或者告诉《纽约时报》的某位记者"), [c.quote for c in answer.citations]
    answer = seeds_chain.ask("Who was the AI consultant who said open source always wins?")  # 开源: not in CC-CEDICT
    assert not answer.refused and "Merav Ozair" in answer.answer, answer.answer


def test_a_question_in_words_no_article_uses_is_answered_where_its_names_meet(seeds_chain) -> None:
    """"…FT文章里，Meta原来叫什么？" was refused as "文章中没有提到争夺或原来", though the first evidence
    sentence names Meta, xAI and Character.ai together and says Meta was Facebook."""
    answer = seeds_chain.ask("那篇讲Meta和xAI争夺Character.ai的FT文章里，Meta原来叫什么？")
    assert not answer.refused and "Facebook" in answer.answer, answer.answer


@pytest.mark.parametrize("question", ["How much salary does Altman get paid at OpenAI?",
                                      "What verdict did the court reach on Musk's suit?",
                                      "Who founded the robot startup Figure?",
                                      "When did Jason Kwon join OpenAI?"])
def test_a_near_miss_asking_a_fact_no_sentence_states_is_refused(seeds_chain, question: str) -> None:
    """Sentences about Altman, the lawsuit or Figure were quoted for a salary, a verdict or a founder
    none of them states."""
    answer = seeds_chain.ask(question)
    assert answer.refused and not answer.citations, answer.answer
    if "salary" in question:  # no article writes a salary in any form: the refusal says so
        assert answer.answer.endswith("None of them mentions salary."), answer.answer
    if "Figure" in question:  # the articles name founders of others: not "None of them mentions founded"
        assert answer.answer == "The articles don't cover this.", answer.answer


def test_who_founded_is_answered_where_a_sentence_says_it(seeds_chain) -> None:
    answer = seeds_chain.ask("Who founded OpenAI?")
    assert not answer.refused and "创立" in answer.citations[0].quote, answer.answer


def test_a_month_is_a_date_not_an_unknown_name(seeds_chain) -> None:
    """"…the one in his November complaint?" was refused as "None of them mentions November": the
    articles write months as dates (同年11月)."""
    from rag.answer.unknown import names

    assert names("What did Musk add to his lawsuit in November?") == ["Musk"]
    answer = seeds_chain.ask("What did Musk add to his lawsuit in November?")
    assert not answer.refused and "反垄断" in answer.answer, answer.answer  # 同年11月…增加了反垄断索赔


def test_a_how_much_question_gets_its_figure_past_the_item_limit(seeds_chain) -> None:
    """"…诉状说OpenAI变成了一家价值多少的营利性公司？": the sentence stating 1570亿美元 ranked below five
    sentences about the lawsuit and was cut by the item limit; a figure of the relation asked (价值, worth),
    in the question's own words, takes the place of one of them."""
    answer = seeds_chain.ask("马斯克扩大诉讼时，诉状说OpenAI变成了一家价值多少的营利性公司？")
    assert not answer.refused and "1570亿美元" in answer.answer, answer.answer


@pytest.mark.parametrize("question", ["How much is OpenAI valued at?", "What is OpenAI valued at?"])
def test_a_figure_asked_of_a_name_alone_is_found_beside_the_name(seeds_chain, question: str) -> None:
    """Both were refused: "What is … valued at?" was no how-much question, and a question with no topic word
    but its name and the relation could not bring the figure past the item limit (the 1570亿美元 sentence names
    no one; the one before it names OpenAI)."""
    answer = seeds_chain.ask(question)
    assert not answer.refused and "1570亿美元" in answer.citations[0].quote, answer.answer


def test_a_chinese_follow_up_is_not_refused_for_a_misread_word(seeds_chain) -> None:
    """"那奥尔特曼呢？" after "马斯克现在身家大概多少？" was refused as "文章中没有提到在身或大概": read from the
    right, 现在身家 gave 在身 ("possess"), and 大概 ("roughly") is a hedge, not a topic."""
    history = [{"role": "user", "content": "马斯克现在身家大概多少？"},
               {"role": "assistant", "content": "马斯克财富估值超过2000亿美元。 [1]"}]
    answer = seeds_chain.ask("那奥尔特曼呢？", history)
    assert not answer.refused and "20亿美元" in answer.answer, answer.answer


@pytest.mark.parametrize("question", ["When did Musk say AI must not be monopolized by a few people?",
                                      "马斯克什么时候说过要防止AI技术被少数人垄断？"])
def test_a_sentence_echoing_the_one_before_is_quoted_with_it(seeds_chain, question: str) -> None:
    """"马斯克也附和道:“要防止AI技术被少数人垄断。”" echoes the sentence before it, which holds the year."""
    quotes = [c.quote for c in seeds_chain.ask(question).citations]
    assert any("少数人垄断" in q and q.startswith("2015年") for q in quotes), quotes


def test_a_yes_no_follow_up_does_not_ask_what_the_question_before_asked(seeds_chain) -> None:
    """"Was that the first time…?" after a how-much question asks no figure: it was refused because no
    sentence states a figure of the control bid. An elliptical "那奥尔特曼呢？" still asks how much."""
    from rag.retrieval.question import follow_up_kinds, yes_no

    offer = "How much did Musk's investor group offer for OpenAI this February?"
    assert yes_no("Was that the first time he tried to get control of OpenAI?") and yes_no("他后来撤诉了吗？")
    assert not yes_no("How did Altman respond?") and not yes_no("那奥尔特曼呢？")
    assert follow_up_kinds("那奥尔特曼呢？", "马斯克身家多少？ 那奥尔特曼呢？") == {"how_much"}
    history = [{"role": "user", "content": offer}, {"role": "assistant", "content": "$97.4 billion. [1]"}]
    answer = seeds_chain.ask("Was that the first time he tried to get control of OpenAI?", history)
    assert not answer.refused and "直接控制" in " ".join(c.quote for c in answer.citations)


def test_the_topic_follow_up_borrows_only_for_a_question_that_leans() -> None:
    """``carry_topic`` (RAG_FOLLOWUP=topic) adds the earlier question's topic words to a follow-up that leans
    on it, and leaves a new question naming no one as typed."""
    from rag.answer.followup import carry_topic

    offer = "How much did Musk's group offer to buy OpenAI?"
    assert carry_topic("How did he respond?", offer).startswith("How did he respond? Musk")
    new = "Who was the AI consultant who said open source always wins?"
    assert carry_topic(new, offer) == new


def test_a_near_miss_in_a_chat_is_refused_for_the_names_it_asks_about(seeds_chain) -> None:
    """"Who founded Character.ai?" after questions about Character.ai and about Musk leaving OpenAI is joined
    with the last one; "2015年,OpenAI由…11位联合创始人共同创立" names OpenAI, which the joined question also
    names, but says nothing of who founded Character.ai, the only name the user asked about."""
    history = [{"role": "user", "content": "Character.ai 在和哪些公司洽谈合作？"},
               {"role": "assistant", "content": "Meta和xAI都在寻求与Character.ai的合作。"},
               {"role": "user", "content": "埃隆·马斯克为何与OpenAI分道扬镳？"},
               {"role": "assistant", "content": "他提出收购OpenAI并亲自运营，遭到其余创始人拒绝。"}]
    answer = seeds_chain.ask("Who founded Character.ai?", history)
    assert answer.refused and not answer.citations, answer.answer
    assert not seeds_chain.ask("Who founded OpenAI?", history).refused  # its co-founders are named
