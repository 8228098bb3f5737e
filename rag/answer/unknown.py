"""Names a question asks about that the articles never mention: then they cannot answer it.

"Who won the 2022 FIFA World Cup?" and "How much did Amazon invest in Anthropic?"
(Anthropic is only in a stripped related-articles list) retrieve sentences about other
things that look relevant to every similarity signal; the name nobody wrote is what
gives them away. A name is a Latin-script word of the question written with a capital
letter (not the first word, not "I", not an acronym of three capitals or fewer: "WSJ",
"US" and "FT" are spelled out or in Chinese in the articles, 华尔街日报, 美国, where no
dictionary links them) or, in a Chinese question, any Latin word. It is
known when the articles hold it in some form: the word or its plain forms, a glossary
spelling or a dictionary translation (``rag.retrieval.translate``), a word of a
glossary name of several words the question mentions ("Wall Street Journal" is
华尔街日报), or a word of an outlet or a title, their Chinese words also in pinyin ("FT",
"Jiemian" for 界面新闻). ``refusal_terms`` picks whose unknown words a refusal names (a follow-up's own,
when it has some) and ``unknown_listed`` writes them ("FIFA World Cup"). What it leaves out: names written in
Chinese characters (a Chinese question's words are not told apart from names) and the
refusal itself (``rag.answer.refusal``).

``unknown_topic`` is the same test for what a question asks about, when it names
nothing the articles do not know: when not one of its topic words (``rag.answer.evidence.topic_words``,
names left out) is in the articles in any form, word or translation ("How do I bake
sourdough bread?", "马斯克有几个孩子？"), the articles cannot answer it, however close
some sentence's vector lies. One unknown word among known ones decides nothing: the
dictionary misses words the articles paraphrase ("co-founders" for 联合创始人). Nor does a Chinese
question whose words, read from the other side, hold one the articles use (``readings``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.answer.evidence import ZH_ASKING, is_name, mentions, name_forms, topic_words
from rag.dates import DATE_WORDS
from rag.retrieval.glossary import name_groups
from rag.retrieval.translate import english_to_chinese, inflections, readings, stems, unnamed
from rag.text import STOPWORDS, detect_language

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9.'’-]*")
_POSSESSIVE = re.compile(r"['’]s?$")
# Not names: "I", and the names of months and weekdays, which the articles write as dates
# ("1月", "同年11月"): "…as of the January reports…" is about a date, not an unknown January.
_NOT_NAMES = frozenset({"i", *DATE_WORDS})
_SHORT_ACRONYM = re.compile(r"[A-Z]{1,3}")
_SENTENCE = re.compile(r"[^?？!！。]+[?？!！。]*")


def names(question: str) -> list[str]:
    """The question's Latin-script words that name something (see the module docstring), each of its
    sentences judged in its own language: a follow-up joined offline with an English question before it
    ("Who won the 2022 FIFA World Cup? 苹果最新款手机的电池容量有多大？") does not make "won" a name."""
    out: list[str] = []
    for sentence in _SENTENCE.findall(question):
        chinese = detect_language(sentence) != "en"
        for i, m in enumerate(_WORD.finditer(sentence)):
            word = _POSSESSIVE.sub("", m.group()).strip(".-")
            if (len(word) < 2 or word.lower() in _NOT_NAMES or word.lower() in STOPWORDS
                    or _SHORT_ACRONYM.fullmatch(word)):
                continue
            if chinese or (i > 0 and any(c.isupper() for c in word)):
                out.append(word)
    return list(dict.fromkeys(out))


def unknown_names(question: str, known: Callable[[str], bool], label: Callable[[str], bool]) -> list[str]:
    """The names of ``question`` in no form the articles use (``known``: the corpus vocabulary;
    ``label``: the outlets' and titles' words)."""

    # every word of a glossary name the question mentions ("Wall Street Journal", "San Francisco"),
    # when the articles use some spelling of it (华尔街日报, 旧金山)
    spelled = {w.lower() for g in name_groups(question) if any(known(t) or label(t) for t in g)
               for t in g for w in _WORD.findall(t)}

    def holds(word: str) -> bool:
        forms = [*stems(word.lower()), *(t for g in name_groups(word) for t in g)]
        return (word.lower() in spelled or any(known(f) or label(f) for f in forms)
                or bool(english_to_chinese(word, known)))

    return [w for w in names(question) if not holds(w)]


def unknown_topic(question: str, known: Callable[[str], bool], evidence: Sequence[str] = ()) -> list[str]:
    """The question's topic words (names left out) when the articles hold none of them in any
    form, else [] (``known``: the corpus vocabulary). Also [] when one ``evidence`` sentence names two
    of the question's names together: "那篇讲Meta和xAI争夺Character.ai的FT文章里，Meta原来叫什么？" is
    answered by "Meta（原Facebook）和Elon Musk的xAI都在寻求与Character.ai的合作" though no article
    writes 争夺 or 原来, and "How have OpenAI and Microsoft each undercut the other?" though none
    writes "undercut"; "马斯克有几个孩子？" names one."""
    topic = topic_words(question, known)
    asked = [forms for forms in topic if not is_name(forms)]
    named = name_forms(topic)
    if len(named) >= 2 and any(sum(mentions([forms], text) for forms in named) >= 2 for text in evidence):
        return []
    if not asked or any(known(f) for forms in asked for w in forms for s in stems(w.lower()) for f in inflections(s)):
        return []
    if detect_language(question) != "en" and any(known(w) for w in readings(unnamed(question)) if w not in ZH_ASKING):
        return []  # the other reading of its words holds one the articles use
    return [forms[0] for forms in asked]


_NAME_RUN = re.compile(r"[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*)*")  # "FIFA World Cup", "Wall Street Journal"
_JOINERS = {"en": (", ", " or "), "zh": ("、", "或")}


def refusal_terms(own: str, standalone: str, unknown: Sequence[str], known: Callable[[str], bool],
                  label: Callable[[str], bool]) -> tuple[str, list[str]]:
    """What a refusal names, and the question that writes it: the unknown names (or else topic words) of
    what the user typed, when it holds some, else ``unknown``, those of the standalone question. "What is
    the weather in Paris tomorrow?" after a question about the World Cup, joined with it offline, is
    refused for Paris, not for "FIFA World Cup or Paris"; "苹果最新款手机的电池容量有多大？" after it, for
    its own words, not for the World Cup; "Who scored?", naming nothing unknown itself, for the World Cup."""
    if own != standalone:
        mine = unknown_names(own, known, label) or unknown_topic(own, known)
        if mine:
            return own, mine
    return standalone, list(unknown)


def _without_opening_word(run: str) -> str:
    """A run of capitalised words without the question's opening function words ("Which Chinese": "Chinese")."""
    words = run.split()
    while len(words) > 1 and words[0].lower() in STOPWORDS:
        words = words[1:]
    return " ".join(words)


def unknown_listed(question: str, unknown: Sequence[str], language: str) -> str:
    """``unknown`` as a reader would write it: each unknown name inside the question's run of capitalised
    words ("Who won the 2022 FIFA World Cup?": "FIFA World Cup", not "FIFA, Cup"), the last one after "or"
    ("bake, sourdough or bread"; 或 in Chinese). A name whose run holds a glossary name ("Satya Nadella")
    is left out, '' when none is left: Chinese articles write such a full name in characters
    (萨蒂亚・纳德拉), where no dictionary finds "Satya", so "None of them mentions Satya" could be false."""
    runs = [_without_opening_word(_POSSESSIVE.sub("", m.group())) for m in _NAME_RUN.finditer(question)]
    shown: list[str] = []
    for term in unknown:
        run = next((r for r in runs if term in r.split()), term)
        if any(name_groups(word) for word in run.split() if word != term):
            continue
        if run not in shown:
            shown.append(run)
    comma, last = _JOINERS["zh" if language != "en" else "en"]
    if not shown:
        return ""
    return shown[0] if len(shown) < 2 else comma.join(shown[:-1]) + last + shown[-1]
