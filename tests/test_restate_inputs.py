"""What a restatement call is given: translated whole when the sentence is in the other language,
with a Chinese sentence's amounts and names already in English (``rag.answer.glosses``).

The unit tests check the glosses and the inputs; the last test goes through the chain and a
scripted OpenAI-compatible server (real HTTP) and reads the prompts the model received.
"""

from __future__ import annotations

import pytest

from rag.answer.glosses import english_amount, glossed, idioms_spelled, unecho
from rag.answer.restate import restate_inputs
from rag.numbers import figures

KARPATHY = ("按照一直以来官方说法,因为特斯拉从OpenAI挖走了Andrej Karpathy担任自动驾驶项目架构师,马斯克认为特斯拉和OpenAI"
            "存在潜在“利益冲突”,无法履行董事职责,因此在2018年选择退出OpenAI董事会,继续履行个人承诺的1亿美元资金资助。")


@pytest.mark.parametrize(("value", "unit", "expected"), [
    (1e8, "美元", "$100 million"),
    (9.74e10, "美元", "$97.4 billion"),
    (4.4e7, "美元", "$44 million"),
    (4.5e7, "", "45 million"),
    (3e8, "元", "300 million yuan"),
    (50000, "", "50,000"),
])
def test_english_amounts(value: float, unit: str, expected: str) -> None:
    assert english_amount(value, unit) == expected


def test_figures_give_spans_in_the_text_itself() -> None:
    text = "微软只占股 49%,马斯克捐了4500萬美元。"
    assert [(text[a:b], v) for a, b, v in figures(text)] == [("49", 49.0), ("4500萬", 4.5e7)]


def test_a_chinese_sentence_gets_its_amounts_and_names_in_english() -> None:
    out = glossed(KARPATHY)
    assert "$100 million资金资助" in out and "1亿" not in out  # the amount is replaced, not glossed beside
    assert "特斯拉" not in out and "马斯克" not in out and out.count(" Tesla ") == 2  # every name in English
    assert " Musk 认为 Tesla 和OpenAI" in out and "2018年" in out  # set off by spaces; a year is not an amount
    assert glossed("近日,特斯拉创始人埃隆·马斯克(Elon Musk)发出要约。").count("Musk") == 1  # already in English
    assert glossed("Musk offered $97.4 billion.") == "Musk offered $97.4 billion."
    assert glossed("馬斯克捐了4500萬美元") == "馬斯克捐了$45 million"  # Traditional 萬 too
    assert glossed("3 月初,DuckDuckGo 发布了 DuckAssist。").startswith("early March,")  # not "March 3rd"
    assert glossed("11月底,马斯克扩大了诉讼范围。").startswith("late November,")


def test_a_full_name_written_with_a_middle_dot_becomes_one_english_name() -> None:
    out = glossed("OpenAI CEO 萨姆・奥特曼也在公开活动上称赞了微软。")
    assert out.startswith("OpenAI CEO Altman 也") and "萨姆" not in out  # not "萨姆・ Altman"
    assert glossed("《OpenAI与埃隆·马斯克》的声明") == "《OpenAI与 Musk 》的声明"  # not "Musk · Musk"
    assert glossed("特斯拉创始人伊隆·马斯克发出要约。") == "Tesla 创始人 Musk 发出要约。"


def test_a_pivot_construction_is_spelled_out_for_the_model() -> None:
    assert "挖走了Andrej Karpathy,并让其担任自动驾驶项目架构师" in glossed(KARPATHY)  # poached X to serve as Y
    assert glossed("董事会任命了马斯克出任CEO。") == "董事会任命了 Musk,并让其出任CEO。"
    assert glossed("在Andrej Karpathy担任总监期间,特斯拉发展很快。").startswith("在Andrej Karpathy担任总监期间")


def test_a_quoted_idiom_is_given_its_english_sense_for_a_second_try() -> None:
    sentence = "然而在沉寂不到一周后,奥特曼使出“杀手锏”,通过公开邮件透露:"
    assert "“杀手锏”" in glossed(sentence)  # the first try has the idiom as the writer wrote it
    assert idioms_spelled(sentence) == "然而在沉寂不到一周后,奥特曼使出“trump card”,通过公开邮件透露:"
    assert idioms_spelled("他们最终分道扬镳,“开放”一词") == "他们最终分道扬镳,“开放”一词"  # unquoted, or not figurative


def test_unecho_drops_a_gloss_the_model_copied() -> None:
    assert unecho("Because Tesla (Tesla) hired Andrej Karpathy (Andrej Karpathy), Musk left.") == \
        "Because Tesla hired Andrej Karpathy, Musk left."
    assert unecho("Microsoft (MSFT) holds 49%.") == "Microsoft (MSFT) holds 49%."
    assert unecho("Musk filed a lawsuit (lawsuit) against CEO Olteanu (Altman).") == \
        "Musk filed a lawsuit against CEO Altman."  # a name spelled its own way before the gloss: the gloss


@pytest.mark.parametrize(("sentence", "target", "translate", "holds"), [
    (KARPATHY, "en", "1", "$100 million"),  # Chinese → English: translated, glossed
    (KARPATHY, "zh", "", "1亿美元"),  # Chinese → Chinese: restated, as written
    ("Musk left the board in 2018.", "zh", "1", "Musk left the board in 2018."),  # English → Chinese
    ("Musk left the board in 2018.", "en", "", "Musk left the board in 2018."),
    ("4、马斯克之所以选择离开OpenAI,是因为觉得成功的可能性为零。", "zh", "", "马斯克之所以"),  # "4、" dropped
    ("答案2：合作可能会加速AGI的研究。", "zh", "", "合作可能"),  # a Q&A line's label dropped
    ("Answer 2: It could speed up AGI research.", "en", "", "It could"),
])
def test_restate_inputs(sentence: str, target: str, translate: str, holds: str) -> None:
    inputs = restate_inputs("q", sentence, "界面新闻", target)
    assert inputs["translate"] == translate
    assert holds in inputs["sentence"] and not inputs["sentence"].startswith(("4、", "答案", "Answer"))
    assert inputs["language_name"].startswith("English" if target == "en" else "Simplified")


@pytest.mark.parametrize(("target", "given", "wanted"), [
    ("en", "挖走了两名主力球员", "poached two key players"),  # Chinese → English
    ("zh", "poached two key players", "挖走了两名主力球员"),  # English → Chinese
    ("Hant", "poached two key players", "挖走了兩名主力球員"),  # in the reader's script
])
def test_a_translation_is_shown_worked_examples_in_its_direction(target: str, given: str, wanted: str) -> None:
    from rag.answer.prompts import RESTATE_PROMPT, TRANSLATION_EXAMPLES

    sentence = "他退出了董事会。" if target == "en" else "He left the board."
    for retry in ("", "1"):
        inputs = {**restate_inputs("q", sentence, "界面新闻", target), "retry": retry}
        messages = RESTATE_PROMPT.invoke(inputs).to_messages()
        assert [m.type for m in messages] == ["system", *["human", "ai"] * len(TRANSLATION_EXAMPLES), "human"]
        assert given in messages[1].content and wanted in messages[2].content
        assert sentence in messages[-1].content and sentence not in messages[1].content
    same = RESTATE_PROMPT.invoke(restate_inputs("q", sentence, "界面新闻", "zh" if target == "en" else "en"))
    assert len(same.to_messages()) == 2  # a sentence in the reader's language is restated, with no examples


def test_the_model_translates_chinese_evidence_for_an_english_question(settings_factory) -> None:
    from openai_server import ScriptedOpenAI
    from rag.factory import build_chain

    with ScriptedOpenAI() as server:
        server.default = "Musk left the board in 2018."
        chain = build_chain(settings_factory(chat_model="openai:gpt-4o-mini", openai_base_url=server.base_url,
                                             openai_api_key="sk-test", timeout=5, max_retries=0, generation="restate"))
        chain.ask("Why did Musk leave OpenAI?")
        chain.ask("马斯克为什么离开OpenAI？")
    prompts = [(r["body"]["messages"][0]["content"], r["body"]["messages"][-1]["content"]) for r in server.requests]
    english, chinese = prompts[: len(prompts) // 2], prompts[len(prompts) // 2:]
    zh_evidence = [(s, u) for s, u in english if "Translate this sentence into English" in u]
    assert zh_evidence and all(s.startswith("You translate one sentence") for s, _ in zh_evidence)
    assert all("亿美元" not in u and "万美元" not in u for _, u in zh_evidence)  # amounts reach it in English
    assert not any("Restate this sentence" in u for _, u in chinese)  # Chinese evidence is shown as written


def test_a_translation_that_fails_the_check_is_asked_once_more_then_quoted(settings_factory) -> None:
    from openai_server import ScriptedOpenAI
    from rag.factory import build_chain

    with ScriptedOpenAI() as server:
        server.default = "Mark Zuckerberg said so."  # a name no source holds: fails every time
        chain = build_chain(settings_factory(chat_model="openai:gpt-4o-mini", openai_base_url=server.base_url,
                                             openai_api_key="sk-test", timeout=5, max_retries=0, generation="restate"))
        answer = chain.ask("Why did Musk leave OpenAI?")
    systems = [r["body"]["messages"][0]["content"] for r in server.requests]
    first = [s for s in systems if "the reason, who states it" in s]
    second = [s for s in systems if "who says or does what" in s]
    assert first and len(second) == len(first)  # every failed translation was tried once more
    assert "Zuckerberg" not in answer.answer and all(line.startswith("- “") for line in answer.answer.splitlines()
                                                     if line.startswith("- ") and "[" in line)


def test_the_second_try_has_the_quoted_idioms_in_english(settings_factory) -> None:
    from openai_server import ScriptedOpenAI
    from rag.factory import build_chain

    with ScriptedOpenAI() as server:
        server.default = "Mark Zuckerberg said so."  # fails the check: every sentence is tried twice
        chain = build_chain(settings_factory(chat_model="openai:gpt-4o-mini", openai_base_url=server.base_url,
                                             openai_api_key="sk-test", timeout=5, max_retries=0, generation="restate"))
        chain.ask("What did Altman's emails reveal about Musk's funding promise?")
    asked = [(r["body"]["messages"][0]["content"], r["body"]["messages"][-1]["content"]) for r in server.requests]
    idiom = [(s, u) for s, u in asked if "使出" in u]
    first = [u for s, u in idiom if "the reason, who states it" in s]
    second = [u for s, u in idiom if "who says or does what" in s]
    assert first and second and all("“杀手锏”" in u for u in first) and all("“trump card”" in u for u in second)


def test_a_translation_that_needed_repair_is_asked_once_more_and_the_repair_shown_when_both_need_it(
        settings_factory) -> None:
    from openai_server import ScriptedOpenAI
    from rag.factory import build_chain

    with ScriptedOpenAI() as server:
        server.default = "Musk, a friend of Mark Zuckerberg, said so."  # an invented aside: repaired every time
        chain = build_chain(settings_factory(chat_model="openai:gpt-4o-mini", openai_base_url=server.base_url,
                                             openai_api_key="sk-test", timeout=5, max_retries=0, generation="restate"))
        answer = chain.ask("Why did Musk leave OpenAI?")
    systems = [r["body"]["messages"][0]["content"] for r in server.requests]
    first = [s for s in systems if "the reason, who states it" in s]
    assert first and len([s for s in systems if "who says or does what" in s]) == len(first)
    bullets = [line for line in answer.answer.splitlines() if line.startswith("- ")]
    assert bullets and "Zuckerberg" not in answer.answer and all(b.startswith("- Musk, said so.") for b in bullets)


@pytest.mark.parametrize(("first", "second", "shown"), [
    (("a", False), ("b", False), "a"),  # the first try, faithful as written
    (("a", True), ("b", False), "b"),  # a repaired try loses to one faithful as written
    (("a", True), ("b", True), "a"),  # both repaired: the first
    (None, ("b", True), "b"),
    (("a", True), None, "a"),
    (None, None, None),
])
def test_preferred_translation(first, second, shown) -> None:
    from rag.answer.restate import _preferred

    chosen = _preferred(first, second)
    assert (chosen[0] if chosen else None) == shown


def test_a_sentence_translated_before_is_shown_again_without_a_call(settings_factory) -> None:
    from openai_server import ScriptedOpenAI
    from rag.factory import build_chain

    with ScriptedOpenAI() as server:
        server.default = "Musk left the board in 2018."
        chain = build_chain(settings_factory(chat_model="openai:gpt-4o-mini", openai_base_url=server.base_url,
                                             openai_api_key="sk-test", timeout=5, max_retries=0, generation="restate"))
        first = chain.ask("Why did Musk leave OpenAI?")
        calls = len(server.requests)
        server.default = "Something else entirely."
        second = chain.ask("Why did Musk leave OpenAI?")
    translations = [r for r in server.requests[calls:] if "Translate this sentence" in str(r["body"]["messages"])]
    assert calls and not translations  # the second asking translated nothing again
    assert second.answer == first.answer and "Musk left the board" in second.answer


def test_a_list_whose_whole_translation_fails_is_translated_line_by_line(settings_factory) -> None:
    """The question the article asks and the talent, data and compute lines answering it are one unit; a
    translation of the whole that leaves a Chinese word fails the check, and each line is then asked alone."""
    from openai_server import ScriptedOpenAI
    from rag.factory import build_chain

    lines = {"关系会是怎样": "What will the relationship between X.ai, Twitter and Tesla be?",
             "提供人才": "X.ai can provide talent.", "提供数据": "Twitter can provide data (at least some data).",
             "优先计算": "Tesla can provide priority computing (Nvidia GPU in the short term, Dojo in the long term).",
             "股权": "Tesla could also invest in X.ai with equity and get priority use of the AI X.ai develops."}

    def reply(body: dict) -> str:
        asked = body["messages"][-1]["content"]
        found = [english for key, english in lines.items() if key in asked]
        if len(found) > 1:
            return "X.ai can provide talent and the priority使用权."  # the whole unit: a word left in Chinese
        return found[0] if found else "Mark Zuckerberg said so."  # any other sentence fails: quoted

    with ScriptedOpenAI() as server:
        server.default = reply
        chain = build_chain(settings_factory(chat_model="openai:gpt-4o-mini", openai_base_url=server.base_url,
                                             openai_api_key="sk-test", timeout=5, max_retries=0, generation="restate"))
        answer = chain.ask("If xAI, Twitter and Tesla did end up working together, what would each bring to the table?")
    assert "X.ai can provide talent. Twitter can provide data (at least some data). Tesla can provide" in answer.answer
    assert "使用权" not in answer.answer.split("[1]")[0]
