"""Calibrate on gold data: the refusal thresholds and the citation support threshold.

**Refusal** (``RAG_MIN_RELEVANCE_EN/ZH``, ``RAG_MIN_RELEVANCE_UNNAMED_EN/ZH``, ``RAG_MIN_OVERLAP``): every case of the
split is run through retrieval and evidence selection (no answerer needed); for
each pair of thresholds, refusal recall (unanswerable cases refused) and
over-refusal (answerable cases refused) are counted with the chain's own
``RefusalPolicy``; the table lists the best pairs that keep over-refusal at or under
5%. The setting to use is ``chosen_thresholds``: per language, the fewest errors, in the
middle of the tie, so that no threshold sits a hair from a dev case.

**The model's check** (``RAG_MIN_ANSWER_PROBABILITY``, ``--what model``): with the
embedded model, each case the retrieval thresholds let through is put to the model's
one-token yes/no check (``rag.answer.refusal.ask_model``); for each threshold on its
probability of "yes", refusal recall and over-refusal are counted on top of the
retrieval thresholds.

**Citation support** (``rag.answer.cite.MIN_SUPPORT``): ALCE-style support, measured without a judge: a gold answer is a claim, its gold
evidence quote is a sentence that supports it, and a sentence of another
article that the retriever finds for the same question is one that does not.
For every answerable case of the chosen split with evidence:

1. claim = the gold answer; positives = the sentences of the store that contain
   a gold evidence quote; negatives = the top retrieved sentences of articles
   that are not gold sources.
2. Score each pair with ``rag.answer.cite.support`` (the very function the chain uses).
3. For each threshold, a *false keep* is a negative at or above it (a marker that
   would stay on an unrelated sentence), a *false drop* a positive below it.

``python -m rag.evaluation.calibration --split dev`` prints both tables; choose
on dev, then read the same thresholds' rows on test. What it leaves out: the
chain's use of the thresholds.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from dataclasses import dataclass

from rag.answer.chain import RagChain
from rag.answer.refusal import RefusalPolicy, answerable, ask_model, unnamed
from rag.answer.cite import support
from rag.config import PROJECT_DIR, Settings, load_settings
from rag.errors import RagError
from rag.evaluation.datasets import EvalCase, load_datasets
from rag.evaluation.splits import load_splits
from rag.factory import build_chain, ensure_ingested, open_store
from rag.models import Sentence
from rag.retrieval.question import for_search
from rag.text import detect_language

THRESHOLDS = [round(0.10 + 0.04 * i, 2) for i in range(16)]


def _cases(split: str) -> list[EvalCase]:
    splits = load_splits(PROJECT_DIR / "evals" / "splits.toml")
    paths = sorted((PROJECT_DIR / "evals" / "datasets").glob("*.jsonl"))
    _, datasets = load_datasets(paths, keep=lambda c: splits.get(c.id) == split)
    return [c for cases in datasets.values() for c in cases]


def _chain(settings: Settings) -> RagChain:
    index = open_store(settings)
    ensure_ingested(index, settings)
    return build_chain(settings.model_copy(update={"chat_model": "extractive"}), index)


@dataclass
class Point:
    answerable: bool
    language: str
    relevance: float
    overlap: float
    has_evidence: bool
    named: bool = True


def refusal_points(split: str, settings: Settings) -> list[Point]:
    """The refusal evidence of every case of the split (the question's retrieval, as the chain does it)."""
    chain = _chain(settings)
    points = []
    for case in _cases(split):
        history = [t.model_dump() for t in case.history]
        evidence, _ = chain.gather(for_search(case.question), history)  # as the chain asks it
        points.append(Point(case.answerable, detect_language(evidence.standalone_question),
                            evidence.relevance, evidence.term_overlap,
                            answerable(evidence), evidence.named))
    return points


def rates(refused: Sequence[bool], answerable: Sequence[bool]) -> tuple[float, float]:
    """(refusal recall, over-refusal), rounded to 3 places; 0.0 for a side with no cases."""
    un = [r for r, a in zip(refused, answerable) if not a]
    ans = [r for r, a in zip(refused, answerable) if a]
    return round(sum(un) / len(un), 3) if un else 0.0, round(sum(ans) / len(ans), 3) if ans else 0.0


def refused_by(policy: RefusalPolicy, points: Sequence[Point]) -> list[bool]:
    """Whether ``policy`` refuses each of ``points``."""
    return [policy.refuse_on(p.has_evidence, p.relevance, p.overlap, p.language, p.named) for p in points]


def refusal_table(points: Sequence[Point]) -> list[tuple[float, float, float, float, float]]:
    """(en threshold, zh threshold, overlap, refusal recall, over-refusal) for a grid, best first."""
    rows = []
    grid = [round(0.10 + 0.02 * i, 2) for i in range(21)]
    for t_en in grid:
        for t_zh in grid:
            for overlap in (0.0, 0.01, 0.1, 0.2, 0.34, 0.4, 0.5, 0.6):  # 0.01: refuse when none is covered
                policy = RefusalPolicy({"en": t_en, "zh": t_zh}, overlap)
                recall, over = rates(refused_by(policy, points), [p.answerable for p in points])
                rows.append((t_en, t_zh, overlap, recall, over))
    rows.sort(key=lambda r: (r[4] > 0.05, -r[3], r[4]))
    return rows


def chosen_thresholds(points: Sequence[Point], overlap: float = 0.0) -> dict[str, float]:
    """Per question language, the relevance threshold with the fewest errors on ``points`` (an
    unanswerable case answered and an answerable one refused count alike), in the middle of the
    run of grid values that tie (the widest margin to the cases on either side); of several such
    runs, the lowest, which refuses the fewest answerable cases. Then, the same way, the bar for
    questions in each language that name no one and nothing (``unnamed``), with the language thresholds in force.

    "The best refusal recall with over-refusal at most 5%" picked thresholds a hair above an
    answerable case or below an unanswerable one (Chinese 0.36 refused n091 at 0.358 and, for it,
    two answerable cases), which a new question crosses as easily as not.
    """
    chosen: dict[str, float] = {}
    for language in sorted({p.language for p in points}):
        chosen[language] = _fewest_errors([p for p in points if p.language == language],
                                          lambda t, lang=language: RefusalPolicy({lang: t}, overlap))
    for language in sorted({p.language for p in points}):  # then the bar for questions naming nothing, on top
        mine = [p for p in points if not p.named and p.language == language]
        if mine:
            chosen[unnamed(language)] = _fewest_errors(
                mine, lambda t, lang=language: RefusalPolicy({**chosen, unnamed(lang): t}, overlap))
    return chosen


def _fewest_errors(points: Sequence[Point], policy: Callable[[float], RefusalPolicy]) -> float:
    """The grid value with the fewest errors on ``points`` under ``policy(value)``, in the middle of the lowest run
    of ties (which refuses the fewest answerable cases)."""
    grid = [round(0.10 + 0.01 * i, 2) for i in range(41)]
    answerable = [p.answerable for p in points]
    counts = [sum(r != (not a) for r, a in zip(refused_by(policy(t), points), answerable)) for t in grid]
    first = last = counts.index(min(counts))
    while last + 1 < len(grid) and counts[last + 1] == counts[first]:
        last += 1
    if not any(p.answerable and p.relevance >= grid[first] for p in points):
        return grid[first]  # no answerable case above bounds the run: its middle would be the grid's, not the data's
    return round((grid[first] + grid[last]) / 2, 2)


def gate_points(split: str, settings: Settings) -> list[tuple[bool, bool, float | None]]:
    """(answerable, refused by the retrieval thresholds, the model's P(yes)) for each case without filters.

    Needs an answerer that restates the evidence (the embedded default): it is the
    one asked. Cases the thresholds already refuse are not asked.
    """
    index = open_store(settings)
    ensure_ingested(index, settings)
    chain = build_chain(settings, index)
    if chain.gate_chain is None:
        raise RagError(f"the answerer {chain.model_name} does not restate evidence, so it is not asked; "
                       "run with the embedded model (RAG_CHAT_MODEL unset) or RAG_GENERATION=restate")
    points: list[tuple[bool, bool, float | None]] = []
    for case in _cases(split):
        if case.filters:
            continue
        evidence, _ = chain.gather(for_search(case.question), [t.model_dump() for t in case.history])
        refused = chain.policy.refuse(evidence, detect_language(evidence.standalone_question))
        points.append((case.answerable, refused, None if refused else ask_model(chain.gate_chain, evidence)[0]))
    return points


def gate_table(points: Sequence[tuple[bool, bool, float | None]]) -> list[tuple[float, float, float]]:
    """(threshold on P(yes), refusal recall, over-refusal) with the retrieval thresholds as they are."""
    rows = []
    for t in [0.0, 0.05, 0.1, 0.15, 0.2, 0.22, 0.25, 0.28, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]:
        refused = [r or (p is not None and p < t) for _, r, p in points]
        rows.append((t, *rates(refused, [a for a, _, _ in points])))
    return rows


def pairs(split: str, settings: Settings) -> tuple[list[float], list[float]]:
    """Support scores of (claim, supporting sentence) and (claim, unrelated sentence) pairs."""
    chain = _chain(settings)
    embed = chain.retriever.embed_texts
    centre = chain.retriever.centre
    positive: list[float] = []
    negative: list[float] = []
    for case in _cases(split):
        if not (case.answerable and case.evidence and case.answer):
            continue
        retrieval = chain.retriever.retrieve(case.question, 15)
        by_chunk = retrieval.sentences
        doc_of = {p.chunk_id: p.doc_id for p in retrieval.passages}
        sentences: list[tuple[str, Sentence]] = [(doc_of[c], s) for c, ss in by_chunk.items() for s in ss]
        claim_vector = embed([case.answer])[0]
        for doc, s in sentences:
            if any(q in s.text or s.text in q for q in case.evidence):
                positive.append(support(case.answer, claim_vector, s, centre))
        others = sorted((s for doc, s in sentences if doc not in case.sources), key=lambda s: -s.score)[:3]
        negative.extend(support(case.answer, claim_vector, s, centre) for s in others)
    return positive, negative


def table(positive: Sequence[float], negative: Sequence[float]) -> list[tuple[float, float, float]]:
    """(threshold, false-keep rate, false-drop rate) rows."""
    rows = []
    for t in THRESHOLDS:
        keeps = sum(v >= t for v in negative) / len(negative) if negative else 0.0
        drops = sum(v < t for v in positive) / len(positive) if positive else 0.0
        rows.append((t, round(keeps, 3), round(drops, 3)))
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--persist-dir", type=Path, default=None)
    parser.add_argument("--what", choices=("refusal", "support", "both", "model"), default="both",
                        help="model: the embedded model's yes/no check (RAG_MIN_ANSWER_PROBABILITY); needs the model")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(persist_dir=args.persist_dir)
    except RagError as exc:
        parser.exit(2, f"error: {exc}\n")
    if args.what == "model":
        try:
            rows = gate_table(gate_points(args.split, settings))
        except RagError as exc:
            parser.exit(2, f"error: {exc}\n")
        print(f"split {args.split}: the model's check (refuse when P(yes) < threshold; current "
              f"{settings.min_answer_probability:.2f}), on top of the retrieval thresholds")
        print("threshold  refusal recall  over-refusal")
        for t, recall, over in rows:
            print(f"{t:9.2f}  {recall:14.3f}  {over:12.3f}")
        return
    if args.what in ("refusal", "both"):
        current = (settings.min_relevance_en, settings.min_relevance_zh, settings.min_overlap)
        points = refusal_points(args.split, settings)
        rows = refusal_table(points)
        print(f"split {args.split}: refusal (best 10 with over-refusal <= 5%, then the current setting)")
        print("en     zh     overlap  refusal recall  over-refusal")
        for row in rows[:10] + [r for r in rows if r[:3] == current]:
            print(f"{row[0]:.2f}   {row[1]:.2f}   {row[2]:.2f}     {row[3]:.3f}           {row[4]:.3f}")
        chosen = chosen_thresholds(points, settings.min_overlap)
        recall, over = rates(refused_by(RefusalPolicy(chosen, settings.min_overlap), points),
                             [p.answerable for p in points])
        print("fewest errors per language, in the middle of the tie (the setting to use): "
              + ", ".join(f"{lang} {t:.2f}" for lang, t in chosen.items())
              + f" -> refusal recall {recall:.3f}, over-refusal {over:.3f}")
    if args.what == "refusal":
        return
    positive, negative = pairs(args.split, settings)
    print(f"split {args.split}: {len(positive)} supporting pairs, {len(negative)} unrelated pairs")
    print("threshold  false keeps  false drops")
    for t, keeps, drops in table(positive, negative):
        print(f"{t:9.2f}  {keeps:11.3f}  {drops:11.3f}")


if __name__ == "__main__":
    main()
