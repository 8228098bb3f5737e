"""Which of the articles' outlets a question names: "according to Jiemian", "the OKEx piece", "界面新闻说".

An outlet is named by its full name, by the first word of a Chinese name or that word in pinyin
(界面 or "Jiemian" for 界面新闻, 金色 or "Jinse" for 金色财经), by the Latin word opening a mixed name ("OKEx"
for OKEx学院), or by a common short form (``ALIASES``: "FT", 微信). Matching is case-blind, on word
boundaries for Latin forms. What it leaves out: which outlets exist (the caller passes the retrieved
passages' outlets) and what is done with the answer (``rag.answer.evidence.select`` keeps evidence
from the named outlets' articles, when some is).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from rag.retrieval.translate import romanised, segment

ALIASES: dict[str, tuple[str, ...]] = {
    "financial times": ("FT", "金融时报"),
    "wechat": ("微信",),
    "wall street journal": ("WSJ", "华尔街日报"),
}


@lru_cache(maxsize=256)
def forms(outlet: str) -> frozenset[str]:
    """The ways a question may name ``outlet``, lower-cased (worked out once per outlet: pinyin reads CC-CEDICT)."""
    name = outlet.strip()
    out = {name.lower(), *(a.lower() for a in ALIASES.get(name.lower(), ()))}
    han = re.sub(r"[^\u4e00-\u9fff]", "", name)
    latin = re.findall(r"[A-Za-z]{3,}", name)
    if han and latin:  # "OKEx学院": the Latin word is the name
        out.add(latin[0].lower())
    elif han:
        first = (segment(han) or [han[:2]])[0]
        out.add(first)
        out.update(w.lower() for w in romanised(first))
    return frozenset(out)


def named_outlets(question: str, outlets: Iterable[str]) -> set[str]:
    """Those of ``outlets`` that ``question`` names."""
    text = question.lower()
    named = set()
    for outlet in {o for o in outlets if o}:
        for form in forms(outlet):
            latin = form.isascii()
            if (re.search(rf"(?<![a-z]){re.escape(form)}(?![a-z])", text) if latin else form in text):
                named.add(outlet)
                break
    return named
