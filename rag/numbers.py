"""Figures in text as values, in both languages: 4500万 → 45e6, $45m → 45e6, 1.3亿 → 1.3e8, 49% → 49.

Chinese numerals with 万/亿 are read by ``cn2an``; Arabic digits may carry
thousands separators, decimals and an English scale word. Used by the eval's
fact matching and by the answer path's faithfulness check of restated
sentences. What it leaves out: units and what a figure measures.
"""

from __future__ import annotations

import re
import warnings

import cn2an

from rag.retrieval.question import to_simplified

_CN_DIGITS = "零〇一二两三四五六七八九十百千万萬亿億"
_EN_SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9,
             "trillion": 1e12, "tn": 1e12}
# A figure: Arabic digits (with thousands separators and decimals) and/or Chinese
# numerals with 万/亿, or Arabic digits followed by an English scale word.
_NUMBER_RE = re.compile(
    rf"(?P<cn>(?:\d[\d,]*(?:\.\d+)?\s*)?[{_CN_DIGITS}]+)"
    rf"|(?P<num>\d[\d,]*(?:\.\d+)?)(?:\s*(?P<scale>{'|'.join(sorted(_EN_SCALE, key=len, reverse=True))})\b)?",
    re.IGNORECASE,
)


def _cn_value(token: str) -> float | None:
    token = re.sub(r"[\s,]", "", token)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(cn2an.cn2an(to_simplified(token), "smart"))
        except (ValueError, KeyError, TypeError):
            return None


def figures(text: str) -> list[tuple[int, int, float]]:
    """Every figure in ``text``: (start, end, value), spans in ``text`` itself."""
    out: list[tuple[int, int, float]] = []
    for m in _NUMBER_RE.finditer(to_simplified(text)):  # t2s keeps the length, so spans carry over
        if m.group("cn"):
            value = _cn_value(m.group("cn"))
        else:
            value = float(m.group("num").replace(",", ""))
            if m.group("scale"):
                value *= _EN_SCALE[m.group("scale").lower()]
        if value is not None:
            out.append((m.start(), m.end(), value))
    return out


def numbers(text: str) -> list[float]:
    """Every figure in ``text`` as a value."""
    return [value for _, _, value in figures(text)]


def same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)
