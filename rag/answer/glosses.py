"""English names and amounts inside a Chinese evidence sentence, for a small model translating it.

A 1.5B model turning "1亿美元" into English writes "$1 billion", "3 月初" (early March)
becomes "March 3rd", and "奥尔特曼" becomes "Olmert". Before a Chinese sentence goes into an English restatement
prompt, each amount with 万/亿 is replaced by its English value ("1亿美元" →
"$100 million"; a gloss in brackets beside the amount was echoed or swapped:
"$97.4 billion (974 billion)"), a part of a month is given in words ("3 月初" →
"early March"), and each glossary name is replaced by its English spelling, set
off by spaces, wherever it appears ("马斯克认为特斯拉和OpenAI…" → "Musk 认为 Tesla 和OpenAI…"),
and a full name whose parts are both its spellings becomes one ("埃隆·马斯克" → "Musk", not "Musk · Musk").
A name that is the object of one verb and the subject of 担任 is spelled out as such
("挖走了Andrej Karpathy担任…" → "挖走了Andrej Karpathy,并让其担任…"; see ``_PIVOT``).
Glossed in brackets where it first appeared ("特斯拉 (Tesla)从OpenAI挖走了…"), the model
wrote "Tesla has been accused of stealing Andrej Karpathy" and "so Tesla chose to exit the
OpenAI board" (it was Musk); replaced, on the 40-case dev subset, pass rate 0.775 → 0.825 and
fact recall 0.892 → 0.925 (an earlier version of this code, replacing the name with no
spaces, had found the opposite). A copied gloss in the reply ("Tesla (Tesla)") is dropped by
``unecho``, and a name the model spelled its own way before a gloss ("Olteanu (Altman)") becomes the gloss. The source
sentence shown to the reader and checked by ``rag.answer.faithful`` is untouched:
only the prompt's copy is glossed. A second try, after a translation failed the check, also
has each quoted idiom in its figurative English sense (``idioms_spelled``). What it leaves out: other words and constructions
(the model translates those), and every target language but English.
"""

from __future__ import annotations

import re

from rag.dates import MONTHS
from rag.numbers import figures
from rag.retrieval.question import to_simplified
from rag.retrieval.glossary import GROUPS
from rag.retrieval.translate import figurative
from rag.text import MIDDLE_DOT, has_han

_CURRENCY = (("美元", "${} "), ("港元", "HK${} "), ("人民币", "{} yuan "), ("元", "{} yuan "))


# "3 月初" is early March, not "March 3rd" (what the model wrote)
_PART_OF_MONTH = re.compile(r"(?<!\d)(1[0-2]|[1-9])\s*月(初|上旬|中旬|中|下旬|底|末)")
_PARTS = {"初": "early", "上旬": "early", "中": "mid", "中旬": "mid", "下旬": "late", "底": "late", "末": "late"}

# A pivot construction, a name that is the object of one verb and the subject of 担任 (to serve as):
# "从OpenAI挖走了Andrej Karpathy担任自动驾驶项目架构师". The 1.5B model read the new role as where the
# person came from ("Tesla acquired Andrej Karpathy as the chief architect of the self-driving project at
# OpenAI", on every try, whatever the examples); spelled out, "挖走了Andrej Karpathy,并让其担任…", it wrote
# "acquired Andrej Karpathy from OpenAI and made him the architecture director of the autonomous driving
# project" (both tries). Only after 了 (the object of a finished verb) and a name in Latin script (or
# a glossary name, already in English here): a subject ("在Karpathy担任总监期间") is left alone.
_PIVOT = re.compile(r"(了\s*[A-Z][A-Za-z.'-]*(?:\s+[A-Z][A-Za-z.'-]*)*)\s*(担任|出任)")

_QUOTED = re.compile(r"([“「\"])([\u4e00-\u9fff]{2,8})([”」\"])")


def english_amount(value: float, unit: str = "") -> str:
    """45e6 → '45 million'; with unit '美元' → '$45 million'."""
    if value >= 1e9:
        words = f"{value / 1e9:.4g} billion"
    elif value >= 1e6:
        words = f"{value / 1e6:.4g} million"
    else:
        words = f"{value:,.0f}"
    for cn, pattern in _CURRENCY:
        if unit.startswith(cn):
            return pattern.format(words).strip()
    return words


def glossed(sentence: str) -> str:
    """``sentence`` with its Chinese amounts and glossary names in English; English text as is."""
    if not has_han(sentence):
        return sentence
    out, last = [], 0
    for start, end, value in figures(sentence):
        token = sentence[start:end]
        if not {"万", "亿"} & set(to_simplified(token)):
            continue
        unit = next((cn for cn, _ in _CURRENCY if sentence.startswith(cn, end)), "")
        end += len(unit)
        out.append(sentence[last:start] + english_amount(value, unit))
        last = end
    text = _PART_OF_MONTH.sub(lambda m: f"{_PARTS[m.group(2)]} {MONTHS[int(m.group(1)) - 1]}",
                              "".join(out) + sentence[last:])
    for group in GROUPS:
        english = group[0]
        if english.lower() in text.lower():
            continue  # already written in English ("埃隆·马斯克(Elon Musk)")
        for name in sorted((t for t in group if has_han(t)), key=len, reverse=True):
            text = text.replace(name, f" {english} ")
        # a full name whose parts are both spellings of it is one name: "埃隆·马斯克" → "Musk", not "Musk · Musk"
        text = re.sub(f" {re.escape(english)} {MIDDLE_DOT} {re.escape(english)} ", f" {english} ", text)
    text = _PIVOT.sub(r"\1,并让其\2", text)
    return re.sub(r" {2,}", " ", text).strip()


def idioms_spelled(sentence: str) -> str:
    """``sentence`` with each quoted idiom or figure of speech in its English sense (CC-CEDICT's
    figurative one): "奥特曼使出“杀手锏”" → "奥特曼使出“trump card”"; other quoted words are left alone.

    For a second try only. The 1.5B model half-translated “杀手锏” as “killer锏” on both tries
    (Chinese left in an English translation fails the check, and the source was quoted instead);
    with “trump card” it wrote "Altman used his "trump card"" on both. Given first, the gloss made a
    translation the model had right worse ("徒有其名" was "just a facade", then "is now "with an
    undeserved reputation""), so the first try has the idiom as the writer wrote it.
    """
    return _QUOTED.sub(lambda m: m.group(1) + (figurative(to_simplified(m.group(2))) or m.group(2)) + m.group(3),
                       sentence)


_ECHO = re.compile(r"\b([A-Za-z][\w.]*(?: [A-Za-z][\w.]*){0,2}) \(\1\)", re.I | re.A)
_GLOSSED = re.compile(r"(?<![\w.])[A-Z][A-Za-z.]* \(([A-Z][A-Za-z.]*(?: [A-Z][A-Za-z.]*)?)\)")  # "Olteanu (Altman)"
_ENGLISH_NAMES = frozenset(group[0] for group in GROUPS)


def unecho(text: str) -> str:
    """A model's copy of a gloss, dropped: 'Tesla (Tesla)' → 'Tesla', 'lawsuit (lawsuit)' → 'lawsuit';
    and a name it spelled its own way before the gloss given: 'Olteanu (Altman)' → 'Altman'."""
    text = _ECHO.sub(r"\1", text)
    return _GLOSSED.sub(lambda m: m.group(1) if m.group(1) in _ENGLISH_NAMES else m.group(0), text)
