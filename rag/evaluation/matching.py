"""Does an answer state a gold fact? Text matching that knows numbers and both Chinese scripts.

What it does: ``states(text, form)`` decides whether ``text`` states the
surface form ``form`` of a fact, in three ways, any of which is enough:
1. textually, after normalising both sides (NFKC, lower case, punctuation as
   space, Traditional → Simplified with OpenCC), also with whitespace removed,
   so "4500 万" = "4500万" and "反壟斷" = "反垄断";
2. numerically, when the form is a number with at most a currency or percent
   sign around it ("4500万", "45 million", "$45m", "4,500万美元", "49%"): the
   text states it when it contains a number of the same value. Chinese numbers
   (4500万, 1.3亿, 四千五百万) are read by ``cn2an``; English scale words
   (million, billion, m, bn, k) multiply the figure before them;
3. never by a part of a number: "45" does not state "4500万".
``script_of`` says whether Chinese text is written in Simplified or
Traditional characters. What it leaves out: dates as dates (a date is
matched by its surface forms, like any fact) and meaning (no embeddings here).
"""

from __future__ import annotations

import re
from typing import Literal

from rag.numbers import _NUMBER_RE, numbers, same
from rag.retrieval.question import _convert, to_simplified
from rag.text import normalize

# What may surround a figure for a form to count as "just a number".
_UNIT_RE = re.compile(r"(?:us\s*)?\$|美元|美金|元|usd|us dollars?|dollars?|%|percent|个百分点|[\s,，.]", re.IGNORECASE)


_DECIMAL_RE = re.compile(r"(?<=\d)\.(?=\d)")


def match_form(text: str) -> str:
    """``normalize`` of the Simplified text with whitespace runs collapsed.

    A decimal point is kept (as "p"), so "97.4亿" never matches "974亿" once
    spaces are removed; thousands separators become spaces, so "4,500" = "4500".
    """
    return " ".join(normalize(_DECIMAL_RE.sub("p", to_simplified(text))).split())


def contains(haystack: str, needle: str) -> bool:
    """Whether ``needle`` occurs in ``haystack`` after ``match_form``, also with all whitespace removed."""
    h, n = match_form(haystack), match_form(needle)
    if not n:
        return False
    return n in h or n.replace(" ", "") in h.replace(" ", "")


def numeric_form(form: str) -> list[float] | None:
    """The values of a form that is only figures (with currency or percent signs), else None."""
    values = numbers(form)
    if not values:
        return None
    rest = _UNIT_RE.sub("", _NUMBER_RE.sub("", to_simplified(form)))
    return values if not rest.strip() else None


def states(text: str, form: str) -> bool:
    """Whether ``text`` states ``form``: textually or, for a numeric form, by value (module docstring)."""
    if contains(text, form):
        return True
    wanted = numeric_form(form)
    if wanted is None:
        return False
    found = numbers(text)
    return all(any(same(w, f) for f in found) for w in wanted)


def states_any(text: str, forms: list[str]) -> bool:
    return any(states(text, f) for f in forms)


def script_of(text: str) -> Literal["hans", "hant"] | None:
    """The Chinese script of ``text``: the one with more script-specific characters; None when neither shows.

    1. A character is Traditional-specific when OpenCC t2s changes it, and
       Simplified-specific when s2t changes it (shared characters count for neither).
    2. More Traditional-specific → "hant", more Simplified-specific → "hans", a tie → None.
    """
    hant = sum(1 for ch in text if _convert(ch, "t2s") != ch)
    hans = sum(1 for ch in text if _convert(ch, "s2t") != ch)
    return "hant" if hant > hans else "hans" if hans > hant else None
