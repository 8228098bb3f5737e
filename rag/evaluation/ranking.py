"""Retrieval ranking metrics: how well the top-k passages find the gold documents and evidence.

What it does: pure functions from the retrieved passages (best first) and a
case's gold sources or evidence quotes to hit, recall, MRR, nDCG and RAGAS
context precision; each algorithm is written out as numbered steps.

What it leaves out: the answer and citation metrics (``metrics.py``), running
retrieval, and aggregation over a run (``totals.py``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from rag.evaluation.matching import contains
from rag.models import Passage


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
