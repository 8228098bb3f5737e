"""The offline answerer: pick the retrieved sentences that best answer the question.

No language model: it scores every sentence of the retrieved passages by its
similarity to the question (the retriever's mean-centred cosine when given,
else the raw cosine of the stored vectors), plus shared keywords (glossary
names count across scripts) and a bonus for numbers when the question asks for
an amount or a date; it skips sentences that carry no content (headings,
metadata lines, questions, lone quotes), prefers the question's language among
equals, and cites each chosen sentence. The answer says that it quotes. It
does not translate, so a Chinese source is quoted in Chinese.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.glossary import expansions
from rag.models import Language, Passage
from rag.prompts import EXTRACTIVE_HEADER
from rag.text import detect_language, keyword_tokens

_NUMBER_Q = re.compile(
    r"how (much|many|long|old)|when|what year|which year|what date|多少|几|何时|什么时候|哪一年|哪年|金额|比例|百分之",
    re.I,
)
_HAS_NUMBER = re.compile(r"\d|[一二三四五六七八九十百千万亿]+(?:美元|元|年|月|日|%)")
_METADATA = re.compile(r"^[\w\s]{1,20}[:：]\s*\S*$|^(tag|date|title|author|description)\s*:", re.I)


@dataclass
class Pick:
    n: int
    text: str
    score: float
    order: int
    span: tuple[int, int] = (0, 0)  # in the passage text


def is_content(sentence: str) -> bool:
    """False for headings, metadata lines, questions and fragments."""
    s = sentence.strip().strip("“”\"'「」*")
    if len(s) < 6 or _METADATA.match(s):
        return False
    if s.endswith(("?", "？")) or re.match(r"^(问题|Q)\d*[:：]", s):
        return False
    if detect_language(s) == "en":
        return len(s.split()) >= 5
    return len(s) >= 10


def select(
    question: str,
    question_vector: Sequence[float],
    passages: Sequence[Passage],
    sentences: dict[str, list[dict]],
    max_sentences: int = 4,
    max_chars: int = 600,
    margin: float = 0.15,
) -> list[Pick]:
    """Best sentences, most relevant first, from different places."""
    q_terms = set(keyword_tokens(question))
    for extra in expansions(question):
        q_terms.update(keyword_tokens(extra))
    wants_number = bool(_NUMBER_Q.search(question))
    q_lang = detect_language(question)
    qv = np.asarray(question_vector, dtype=np.float32)
    candidates: list[Pick] = []
    order = 0
    for p in passages:
        for s in sentences.get(p.chunk_id, []):
            order += 1
            text = s["text"]
            if not is_content(text):
                continue
            score = s["score"] if "score" in s else float(np.asarray(s["embedding"], dtype=np.float32) @ qv)
            terms = set(keyword_tokens(text))
            if q_terms:
                score += 0.15 * len(q_terms & terms) / len(q_terms)
            if wants_number and _HAS_NUMBER.search(text):
                score += 0.03
            if detect_language(text) == q_lang:
                score += 0.01
            score += 0.02 / p.n  # the fused rank, as a tie-breaker
            candidates.append(Pick(p.n, text, score, order, (s["start"], s["end"])))
    candidates.sort(key=lambda c: -c.score)
    chosen: list[Pick] = []
    used = 0
    for c in candidates:
        if len(chosen) == max_sentences or (chosen and c.score < chosen[0].score - margin):
            break
        if any(c.text == x.text or c.text in x.text or x.text in c.text for x in chosen):
            continue
        if chosen and used + len(c.text) > max_chars:
            continue
        chosen.append(c)
        used += len(c.text)
    return chosen


def compose(picks: Sequence[Pick], language: Language, labels: dict[int, str] | None = None) -> str:
    """The extractive answer text: a header, then each quoted sentence with its marker (and source label)."""
    lines = [EXTRACTIVE_HEADER[language]]
    labels = labels or {}
    lines.extend(f"- {p.text} [{p.n}]" + (f" ({labels[p.n]})" if p.n in labels else "") for p in picks)
    return "\n".join(lines)
