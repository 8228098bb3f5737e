"""Names a question asks about that the articles never mention (``rag.answer.unknown``), and the refusal they bring."""

from __future__ import annotations

from rag.answer.unknown import names, unknown_names

CORPUS = {"musk", "openai", "微软", "亚马逊", "world"}  # the corpus vocabulary, lower case
LABELS = {"jiemian", "ft"}  # outlet and title words


def known(word: str) -> bool:
    return word.lower() in CORPUS


def label(word: str) -> bool:
    return word.lower() in LABELS


def test_names_are_capitalised_words_after_the_first_or_latin_words_in_chinese() -> None:
    assert names("Who won the 2022 FIFA World Cup?") == ["FIFA", "World", "Cup"]
    assert names("What did Musk's lawyers say, and what do I think?") == ["Musk"]
    assert names("How did the WSJ and the US report it?") == []  # short acronyms are not judged
    assert names("Andrej Karpathy离开特斯拉后去了哪里？") == ["Andrej", "Karpathy"]


def test_a_name_is_known_in_any_form_the_articles_use() -> None:
    assert unknown_names("Who won the 2022 FIFA World Cup?", known, label) == ["FIFA", "Cup"]
    assert unknown_names("Why did Musk leave OpenAI?", known, label) == []
    assert unknown_names("How much did Microsoft invest?", known, label) == []  # glossary: 微软
    assert unknown_names("What does the Jiemian article say?", known, label) == []  # an outlet
    assert unknown_names("How much did Amazon invest in Anthropic?", known, label) == ["Anthropic"]


def test_a_question_naming_what_no_article_mentions_is_refused(seeds_chain) -> None:
    for question in ("Who won the 2022 FIFA World Cup?", "What did Zorblax Quentiva say about OpenAI?"):
        answer = seeds_chain.ask(question)
        assert answer.refused and not answer.citations, question
        assert answer.answer.startswith("The articles don't cover this. None of them mentions "), answer.answer
    assert not seeds_chain.ask("What do the Jiemian and Jinse Caijing articles say about Musk?").refused


def test_each_word_of_a_glossary_name_of_several_words_is_known_when_the_name_is() -> None:
    assert unknown_names("What did Musk tell the Wall Street Journal?", lambda w: w in {"华尔街日报", "musk"}, label) == []
    assert unknown_names("What did Musk tell the Wall Street Journal?", lambda w: w == "musk", label) == [
        "Wall", "Street", "Journal"]
