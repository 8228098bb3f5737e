"""The outlets a question names, and evidence kept to their articles."""

from __future__ import annotations

from rag.answer.outlets import forms, named_outlets

OUTLETS = ["Financial Times", "WeChat", "界面新闻", "OKEx学院", "金色财经"]


def test_an_outlet_is_named_by_its_name_first_word_pinyin_or_short_form() -> None:
    assert forms("界面新闻") >= {"界面新闻", "界面", "jiemian"}
    assert forms("OKEx学院") >= {"okex"}
    assert named_outlets("What did the OKEx piece say about Bing?", OUTLETS) == {"OKEx学院"}
    assert named_outlets("How do the Jiemian and Jinse Caijing articles differ?", OUTLETS) == {"界面新闻", "金色财经"}
    assert named_outlets("按金色财经的说法，马斯克出价多少？", OUTLETS) == {"金色财经"}
    assert named_outlets("What did the FT summary list as risks?", OUTLETS) == {"Financial Times"}
    assert named_outlets("微信文章的作者怎么看？", OUTLETS) == {"WeChat"}


def test_ordinary_words_name_no_outlet() -> None:
    for question in ("Why did Musk leave OpenAI?", "What did Musk's exit do to OpenAI's finances?",
                     "How soft is the Microsoft deal?", "马斯克为什么离开OpenAI？"):
        assert named_outlets(question, OUTLETS) == set()


def test_a_question_naming_an_outlet_is_answered_from_its_articles(seeds_chain) -> None:
    answer = seeds_chain.ask("According to Jinse Caijing, how did Musk and OpenAI fall out?")
    assert not answer.refused and answer.citations
    assert {c.outlet for c in answer.citations} == {"金色财经"}
