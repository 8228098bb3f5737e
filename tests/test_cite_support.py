"""Citation support: a marker stays only where its evidence sentence supports the claim.

The scripted model (real openai client over HTTP) answers with one claim the
evidence states and one it does not ("because of aliens"); the first keeps its
marker and quotes a sentence that says it, the second loses its marker and is
listed as unsupported in the answer object, and the app shows the flag.
The restated (evidence-by-evidence) answers go through the same check, and a
restatement whose figures or names changed is replaced by its source sentence.
"""

from __future__ import annotations

import pytest
from openai_server import ScriptedOpenAI
from streamlit.testing.v1 import AppTest

from rag.answer.faithful import faithful, repaired
from rag.factory import build_chain
from rag.models import Answer


@pytest.fixture
def server():
    with ScriptedOpenAI() as s:
        yield s


def chain_for(server: ScriptedOpenAI, settings_factory, **extra):
    return build_chain(settings_factory(chat_model="openai:gpt-4o-mini", openai_base_url=server.base_url,
                                        openai_api_key="sk-test-support", timeout=5, max_retries=0, **extra))


def test_an_unsupported_claim_loses_its_marker_and_is_flagged(server, settings_factory) -> None:
    question = "Why did Musk leave OpenAI?"
    evidence, _ = chain_for(server, settings_factory).gather(question)
    n = next(it.n for it in evidence.items if "利益冲突" in it.sentence.text)
    server.replies.append(f"马斯克认为特斯拉和OpenAI存在潜在利益冲突，因此在2018年选择退出OpenAI董事会[{n}]。"
                          f"他离开是因为外星人[{n}]。")
    answer = chain_for(server, settings_factory).ask(question)
    assert any("外星人" in c for c in answer.unsupported)
    assert "外星人[" not in answer.answer and f"董事会[{n}]" in answer.answer
    assert answer.citations and all("外星人" not in c.quote for c in answer.citations)
    assert any("利益冲突" in c.quote for c in answer.citations)


def test_the_app_flags_unsupported_claims() -> None:
    answer = Answer(question="q", answer="Musk left because of aliens.", refused=False, language="en",
                    model="m", embedding_model="e", unsupported=["Musk left because of aliens."])
    at = AppTest.from_string(
        "import streamlit as st\nfrom ui import render\nrender.answer(st.session_state['a'])\n"
    )
    at.session_state["a"] = answer
    at.run()
    assert any("Not supported by the cited sources" in w.value for w in at.warning)


@pytest.mark.parametrize(("restated", "ok"), [
    ("Musk offered 974亿美元 ($97.4 billion) for OpenAI, but Sam Altman rejected it.", True),
    ("Elon Musk has rejected OpenAI's $974 billion offer.", False),  # 974亿 is 97.4 billion
    ("Mark Zuckerberg made the offer.", False),  # a name the sentence does not hold
    ("Microsoft CEO Elon Musk made the offer.", False),  # a first word followed by a name is a name too
    ("The offer came from Elon Musk.", True),
    ("Elon Musk发出了 the offer for OpenAI.", False),  # half translated
    ('Sam Altman rejected it, saying: "Enough, but OpenAI is not for sale."', True),  # quoted speech opens a sentence
    ('Sam Altman rejected it, saying: "Jeff Bezos could buy OpenAI."', False),
])
def test_a_restatement_keeps_the_figures_and_names_of_its_source(restated: str, ok: bool) -> None:
    source = ("近日,特斯拉创始人埃隆·马斯克(Elon Musk)向OpenAI发出了一份高达974亿美元的收购要约,"
              "但遭到OpenAI首席执行官山姆·奥特曼(Sam Altman)的拒绝。")
    assert faithful(restated, source) is ok


@pytest.mark.parametrize(("restated", "ok"), [
    ("On February 29, Musk sued OpenAI and its co-founders in a San Francisco court.", True),
    ("On March 29, Musk sued OpenAI and its co-founders in a San Francisco court.", False),  # 2月 is February
    ("He had cited a video of Altman testifying before the US Congress.", True),  # 国会
])
def test_a_translation_may_name_the_month_or_the_word_its_source_states(restated: str, ok: bool) -> None:
    """A date or a common noun written in English is not an invented name: the English answer need not
    fall back to quoting the Chinese sentence."""
    source = "在当地时间2月29日,马斯克突然在旧金山法院对OpenAI及其联合创始人提起诉讼;他曾引用Altman在美国国会作证时的视频。"
    assert faithful(restated, source) is ok


@pytest.mark.parametrize(("restated", "ok"), [
    ("In early March, DuckDuckGo released DuckAssist.", True),
    ("On March 3rd, DuckDuckGo released DuckAssist.", False),  # 3 月初 is early March: no day stated
    ("On 3 March, DuckDuckGo released DuckAssist.", False),
])
def test_a_translation_states_no_day_its_source_does_not(restated: str, ok: bool) -> None:
    assert faithful(restated, "3 月初,就在微软发布新 Bing 的几周之后,DuckDuckGo 发布了 DuckAssist。") is ok


@pytest.mark.parametrize(("restated", "ok"), [
    ("Musk sued OpenAI, CEO Altman and President Brockman in a San Francisco court.", True),  # 总裁: a title
    ("Musk sued OpenAI, and Microsoft Office offers similar features.", True),  # 微软办公软件
    ("Musk sued OpenAI and President Zuckerberg.", False),  # a title does not make a name sourced
    ("Mark Zuckerberg sued OpenAI.", False),
    ("Google Musk sued OpenAI.", False),  # a name the glossary knows is no title
])
def test_an_ordinary_word_written_as_part_of_a_sourced_name_is_no_invented_name(restated: str, ok: bool) -> None:
    source = "马斯克在旧金山法院对OpenAI及其联合创始人,公司首席执行官奥尔特曼和总裁布罗克曼提起诉讼,而微软办公软件提供了类似功能。"
    assert faithful(restated, source) is ok


@pytest.mark.parametrize(("restated", "ok"), [
    ("On February 29, Musk sued OpenAI, its CEO Altman and President Brockman.", True),
    ("On February 29, Musk, the CEO of OpenAI and its founders, including Altman and Brockman, filed a lawsuit.",
     False),  # the model moved the title to the wrong man
    ("On February 29, CEO Musk sued OpenAI.", False),
])
def test_a_translation_gives_a_role_only_to_the_person_the_source_gives_it(restated: str, ok: bool) -> None:
    source = "在当地时间2月29日,马斯克突然在旧金山法院对OpenAI及其联合创始人,公司首席执行官奥尔特曼和总裁布罗克曼提起诉讼。"
    assert faithful(restated, source) is ok


def test_a_role_may_stand_a_few_characters_before_the_name() -> None:
    source = "近日,特斯拉创始人埃隆·马斯克(Elon Musk)向OpenAI发出了收购要约,但遭到OpenAI首席执行官山姆·奥特曼(Sam Altman)的拒绝。"
    assert faithful("Elon Musk, the founder of Tesla, made an offer that CEO Sam Altman rejected.", source)
    assert not faithful("Sam Altman, the founder of Tesla, made an offer.", source)


@pytest.mark.parametrize(("restated", "ok"), [
    ("Microsoft CEO Satya Nadella and OpenAI CEO Altman praised each other.", True),  # 萨蒂亚・纳德拉
    ("Microsoft CEO Mark Nadella and OpenAI CEO Altman praised each other.", True),  # unchecked: a given name
    ("Microsoft CEO Mark Zuckerberg and OpenAI CEO Altman praised each other.", False),
    ("Microsoft CEO Satya Nadella praised Altman.", False),  # no given name in this source
])
def test_a_given_name_may_stand_before_a_surname_written_in_full_in_characters(restated: str, ok: bool) -> None:
    source = "微软 CEO 萨蒂亚・纳德拉和 OpenAI CEO 萨姆・奥特曼也在公开活动上互相称赞。"
    assert faithful(restated, source if "praised each" in restated else "微软CEO纳德拉称赞了奥特曼。") is ok


KARPATHY = ("按照一直以来官方说法,因为特斯拉从OpenAI挖走了Andrej Karpathy担任自动驾驶项目架构师,马斯克认为特斯拉和OpenAI存在"
            "潜在“利益冲突”,无法履行董事职责,因此在2018年选择退出OpenAI董事会。")


@pytest.mark.parametrize(("restated", "expected"), [
    ("Tesla hired Andrej Karpathy, a former Google employee, as the architect of its self-driving project, "
     "so Musk left the OpenAI board in 2018.",  # the model's own aside goes, the rest stays
     "Tesla hired Andrej Karpathy, as the architect of its self-driving project, so Musk left the OpenAI board in 2018."),
    ("Tesla hired Andrej Karpathy (from Google) for self-driving.", "Tesla hired Andrej Karpathy for self-driving."),
    ("Musk left the board in 2018 because Google hired Andrej Karpathy.", None),  # the name is the claim
    ("Musk left the board in 2019, after Tesla hired Andrej Karpathy.", None),  # a figure outside an aside
])
def test_an_invented_aside_is_dropped_and_nothing_else(restated: str, expected: str | None) -> None:
    assert repaired(restated, KARPATHY) == expected


@pytest.mark.parametrize(("restated", "expected"), [
    ("In November 2021, Musk added antitrust claims.", "In November, Musk added antitrust claims."),  # 同年: no year
    ("In November 2024, Musk added antitrust claims.", "In November 2024, Musk added antitrust claims."),
    ("Musk added antitrust claims in 2021.", None),  # a year standing alone is a claim
])
def test_a_year_the_model_gave_a_month_is_dropped(restated: str, expected: str | None) -> None:
    assert repaired(restated, "同年11月,马斯克增加了反垄断索赔。" if "2024" not in restated
                    else "2024年11月,马斯克增加了反垄断索赔。") == expected


@pytest.mark.parametrize(("restated", "expected"), [
    # a word the model copied from the source: its dictionary English
    ("Altman released the emails and Musk,逐一 refuting his accusations.",
     "Altman released the emails and Musk, one by one refuting his accusations."),
    ("Altman used his killer锏 to reveal the emails.", None),  # half a word: not a copied one
    ("Altman 冷处理 the emails.", None),  # not in the dictionary: left, so it fails
])
def test_a_chinese_word_left_in_a_translation_is_given_in_english(restated: str, expected: str | None) -> None:
    assert repaired(restated, "奥特曼使出“杀手锏”,公开了邮件,冷处理了马斯克,逐一驳斥了他的指控。") == expected


def test_a_heading_beside_the_evidence_is_never_quoted() -> None:
    from rag.answer.cite import build_citations
    from rag.models import Evidence, EvidenceItem, Passage, Sentence

    text = "摘要：\nMeta和xAI都在寻求与Character.ai的合作。"
    passage = Passage(chunk_id="d#0", doc_id="d", title="t", text=text, language="zh", n=1)
    heading = Sentence(chunk_id="d#0", text="摘要：", start=0, end=3, language="zh")
    sentence = Sentence(chunk_id="d#0", text=text[4:], start=4, end=len(text), language="zh")
    evidence = Evidence(question="q", standalone_question="q", passages=[passage],
                        items=[EvidenceItem(n=1, sentence=sentence, before=heading)])
    cited = build_citations("- 摘要 [1]\n- Meta和xAI都在寻求与Character.ai的合作 [1]", evidence)
    assert [c.quote for c in cited.citations] == [sentence.text]  # the heading's word-match is no support
    assert cited.unsupported == ["摘要"]


def test_restated_answers_cite_each_evidence_sentence(server, settings_factory) -> None:
    server.default = "Musk thought OpenAI's chance of success was zero."
    chain = chain_for(server, settings_factory, generation="restate")
    answer = chain.ask("Why did Musk leave OpenAI?")
    lines = answer.answer.splitlines()
    assert lines and all(line.startswith("- ") for line in lines)
    # the model's yes/no check, then one call per evidence sentence in the other language (the
    # English ones are shown as they are)
    assert 1 < len(server.requests) <= 1 + len(lines)
    for line in lines:  # each keeps its sentence's marker, or lost it to the support check and is flagged
        assert line.rstrip().endswith("]") or line[2:].strip() in answer.unsupported
    by_n = {p.n: p for p in answer.passages}
    for c in answer.citations:
        assert by_n[c.n].text[c.span[0]:c.span[1]] == c.quote


def test_evidence_in_the_readers_language_is_shown_as_written_not_restated(server, settings_factory) -> None:
    """A small model restating "为了避免反垄断审查的麻烦,微软只占股 49%" wrote "微软只占股49%": the reason was
    lost. A sentence already in the question's language is the article's own words, with its marker."""
    server.default = "Musk thought OpenAI's chance of success was zero."
    chain = chain_for(server, settings_factory, generation="restate")
    answer = chain.ask("马斯克为什么离开OpenAI？")
    sent = [r["body"]["messages"][-1]["content"] for r in server.requests]
    assert not any("Restate this sentence" in u for u in sent)
    chinese = [line for line in answer.answer.splitlines() if "马斯克" in line]
    assert chinese
    for line in chinese:
        body = line[2:].rsplit(" [", 1)[0]
        assert any(body in p.text for p in answer.passages), line  # verbatim, from a shown passage
