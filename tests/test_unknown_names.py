"""Names a question asks about that the articles never mention (``rag.answer.unknown``), and the refusal they bring."""

from __future__ import annotations

import pytest

from rag.answer.unknown import names, unknown_names

CORPUS = {"musk", "openai", "微软", "亚马逊", "world", "scored"}  # the corpus vocabulary, lower case
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


def test_a_follow_up_is_refused_for_what_its_own_words_name() -> None:
    from rag.answer.unknown import refusal_terms, unknown_listed

    def listed(own: str, joined: str) -> str:
        return unknown_listed(*refusal_terms(own, joined, unknown_names(joined, known, label), known, label), "en")

    # offline, a follow-up is joined with the question before it
    assert listed("What is the weather in Paris tomorrow?",
                  "Who won the 2022 FIFA World Cup? What is the weather in Paris tomorrow?") == "Paris"
    # a follow-up naming nothing unknown itself ("Who scored?") keeps the earlier question's names
    assert listed("Who scored?", "Who won the 2022 FIFA World Cup? Who scored?") == "FIFA World Cup"
    # a follow-up with unknown words of its own is refused for them, not for the earlier question's names
    where, terms = refusal_terms("苹果手机的电池有多大？", "Who won the 2022 FIFA World Cup? 苹果手机的电池有多大？",
                                 ["FIFA", "Cup"], known, label)
    assert where == "苹果手机的电池有多大？" and "电池" in terms and "FIFA" not in terms, terms


def test_each_sentence_of_a_joined_question_is_judged_in_its_own_language() -> None:
    assert names("Who won the 2022 FIFA World Cup? 苹果手机的电池有多大？") == ["FIFA", "World", "Cup"]
    assert names("Who won? OpenAI和Anthropic的创始人是谁？") == ["OpenAI", "Anthropic"]


def test_an_off_topic_follow_up_in_the_app_names_only_its_own_unknowns(seeds_chain) -> None:
    history = [{"role": "user", "content": "Who won the 2022 FIFA World Cup?"},
               {"role": "assistant", "content": "The articles don't cover this. None of them mentions FIFA World Cup."}]
    answer = seeds_chain.ask("What is the weather in Paris tomorrow?", history)
    assert answer.refused and not answer.citations
    assert "FIFA" not in answer.answer, answer.answer
    assert answer.answer.endswith("None of them mentions Paris."), answer.answer


def test_each_word_of_a_glossary_name_of_several_words_is_known_when_the_name_is() -> None:
    assert unknown_names("What did Musk tell the Wall Street Journal?", lambda w: w in {"华尔街日报", "musk"}, label) == []
    assert unknown_names("What did Musk tell the Wall Street Journal?", lambda w: w == "musk", label) == [
        "Wall", "Street", "Journal"]


def test_a_question_whose_topic_words_are_all_unknown_names_them() -> None:
    from rag.answer.unknown import unknown_topic

    corpus = CORPUS | {"离开", "创始人"}
    assert unknown_topic("How do I bake sourdough bread?", lambda w: w.lower() in corpus) == ["bake", "sourdough", "bread"]
    assert unknown_topic("马斯克有几个孩子？", lambda w: w.lower() in corpus) == ["孩子"]  # 马斯克 is a name, 几个 asks
    assert unknown_topic("Why did Musk leave OpenAI?", lambda w: w.lower() in corpus) == []
    # one unknown word among known ones decides nothing: the dictionary misses paraphrases
    assert unknown_topic("How many co-founders and founders did OpenAI have?", lambda w: w.lower() in corpus) == []
    # two of its names in one evidence sentence: about what the articles hold, though in words they do not use
    together = ["Meta（原Facebook）和Elon Musk的xAI都在寻求与Character.ai的合作。"]
    assert unknown_topic("Meta和xAI争夺Character.ai时，Meta原来叫什么？", lambda w: w.lower() in corpus) != []
    assert unknown_topic("Meta和xAI争夺Character.ai时，Meta原来叫什么？", lambda w: w.lower() in corpus, together) == []
    assert unknown_topic("马斯克有几个孩子？", lambda w: w.lower() in corpus, ["马斯克离开了OpenAI。"]) == ["孩子"]  # one name


def test_a_question_about_nothing_the_articles_hold_is_refused_saying_what(seeds_chain) -> None:
    answer = seeds_chain.ask("马斯克有几个孩子？")
    assert answer.refused and not answer.citations
    assert answer.answer == "文章中没有涉及这个问题。文章中没有提到孩子。"
    assert seeds_chain.ask("How do I bake sourdough bread?").answer.endswith("None of them mentions bake, sourdough or bread.")
    assert seeds_chain.ask("Who won the 2022 FIFA World Cup?").answer.endswith("None of them mentions FIFA World Cup.")
    assert not seeds_chain.ask("When was OpenAI founded, and by how many co-founders?").refused
    # a nationality is known as its country: "Chinese" is 中国, which the dictionary does not give
    chinese = seeds_chain.ask("Which Chinese rival made waves with a cheap AI product built on Meta's open model?")
    assert not chinese.refused and "DeepSeek" in chinese.answer


@pytest.mark.parametrize(("question", "unknown", "language", "listed"), [
    ("Who won the 2022 FIFA World Cup?", ["FIFA", "Cup"], "en", "FIFA World Cup"),
    ("What did Musk tell the Wall Street Journal?", ["Wall", "Street", "Journal"], "en", "Wall Street Journal"),
    ("How much did Amazon invest in Anthropic and Mistral?", ["Amazon", "Anthropic", "Mistral"], "en",
     "Amazon, Anthropic or Mistral"),
    ("Did Zorblax's CEO resign?", ["Zorblax"], "en", "Zorblax"),
    ("How do I bake sourdough bread?", ["bake", "sourdough", "bread"], "en", "bake, sourdough or bread"),
    ("DeepSeek和Mistral的创始人是谁？", ["DeepSeek", "Mistral"], "zh", "DeepSeek或Mistral"),
    ("马斯克有几个孩子？", ["孩子"], "zh", "孩子"),
    # a given name beside a glossary surname: the articles may write the full name in characters
    ("What does Satya Nadella think of Musk's lawsuit?", ["Satya"], "en", ""),
    ("What did Zorblax and Satya Nadella say?", ["Zorblax", "Satya"], "en", "Zorblax"),
    ("Which Zorblax rival won?", ["Zorblax"], "en", "Zorblax"),  # not "Which Zorblax"
])
def test_unknown_names_are_listed_as_the_question_writes_them(question, unknown, language, listed) -> None:
    from rag.answer.unknown import unknown_listed

    assert unknown_listed(question, unknown, language) == listed


def test_a_topic_word_is_known_in_any_inflection_the_articles_use() -> None:
    from rag.answer.unknown import unknown_topic

    assert unknown_topic("How much did Zephyr Robotics raise?", lambda w: w == "raised") == []  # the article says "raised"
    assert unknown_topic("How much did Zephyr Robotics raise?", lambda w: False) == ["raise"]


def test_a_names_characters_do_not_make_a_word_with_their_neighbours(seeds_chain) -> None:
    """"哪天马斯克起诉OpenAI？" (a model's rewrite of a follow-up) was refused as "文章中没有提到天马":
    the dictionary read 天马 (Pegasus) across 哪天 and 马斯克."""
    from rag.answer.evidence import topic_words
    from rag.answer.unknown import unknown_topic

    words = {w for forms in topic_words("哪天马斯克起诉OpenAI？", lambda w: True) for w in forms}
    assert "天马" not in words and "马斯克" in words
    assert unknown_topic("哪天马斯克起诉OpenAI？", seeds_chain.retriever.knows) == []
    assert not seeds_chain.ask("哪天马斯克起诉OpenAI？").refused


def test_asking_how_the_articles_describe_something_asks_about_that_thing(seeds_chain) -> None:
    """介绍 / 描述 (describe) ask what the articles say; no article writes them, and the question was
    refused as "文章中没有提到介绍"."""
    for question in ("两篇文章分别是怎么介绍马斯克的Grok的？", "文章如何描述Grok？"):
        answer = seeds_chain.ask(question)
        assert not answer.refused and "Grok" in answer.answer, answer.answer
