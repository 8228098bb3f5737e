"""The question as typed: cleaned, or rejected in one line (empty, wordless, oversized).

What it leaves out: what the question asks (``rag.retrieval.question``) and whether the
articles answer it (``rag.answer.refusal``).
"""

from __future__ import annotations

import re
import unicodedata

from rag.errors import InputError

MAX_QUESTION_CHARS = 10_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 (but tab and newline), DEL, C1


def check_question(question: str) -> str:
    """Clean a question; reject empty, wordless or oversized ones.

    Control characters become spaces; invisible format characters (BOM, zero-width,
    bidi marks) and lone surrogates (what argv/stdin make of bytes that are not UTF-8)
    are dropped.
    """
    if not isinstance(question, str):
        raise InputError("the question must be text")
    question = "".join(
        ch for ch in _CONTROL.sub(" ", question) if unicodedata.category(ch) not in ("Cf", "Cs")
    ).strip()
    if not question:
        raise InputError("the question is empty: type a question about the articles")
    if not any(ch.isalnum() for ch in question):
        raise InputError("the question has no words (only symbols or emoji): type a question about the articles")
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(
            f"the question is {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}: shorten it"
        )
    return question
