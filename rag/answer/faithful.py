"""Is a restated sentence faithful to its source? Figures and names, checked in code.

A small model restating a Chinese sentence in English garbles 万/亿 (974亿美元
became "$974 billion") and invents names ("Mark Zuckerberg" for 马斯克). Before
a restatement is shown, every figure in it must have the same value as a
figure in the source (``rag.numbers``: 4500万 = $45 million), and every
capitalised name in it must be written in the source or be the English of a
glossary name the source contains. A restatement that fails is replaced by
the source sentence itself, quoted. What it leaves out: meaning beyond figures
and names (the citation support check in ``rag.answer.cite`` covers the rest).
"""

from __future__ import annotations

import re

from rag.retrieval.glossary import name_groups
from rag.numbers import numbers, same

_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}(?:[A-Z][a-z]+)*\b")


def _names(text: str) -> set[str]:
    return {m.group(0) for m in _NAME.finditer(text.strip())}


def faithful(restated: str, source: str) -> bool:
    """True when every figure and every mid-sentence capitalised name of ``restated`` is in ``source``."""
    have = numbers(source)
    if any(not any(same(v, h) for h in have) for v in numbers(restated)):
        return False
    allowed = {w for g in name_groups(source) for t in g for w in t.split()}
    lowered = source.lower()
    return all(n.lower() in lowered or n in allowed for n in _names(restated))
