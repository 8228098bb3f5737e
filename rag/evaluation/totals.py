"""Total the result rows: per answerer, overall and per dataset, split and tag.

What it does: ``aggregate`` turns rows into means (and set-level refusal,
latency, token and cost figures) with the number of cases each is over;
``totals_by_system`` does it for every answerer and every slice a report
shows. What it leaves out: scoring one row (``scoring.py``) and rendering.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from pydantic import BaseModel, Field

from rag.evaluation import metrics as m
from rag.evaluation.scoring import CaseResult


class Totals(BaseModel):
    cases: int
    errors: int
    metrics: dict[str, float | None]
    counts: dict[str, int] = Field(description="How many cases each mean is over.")


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def aggregate(rows: Sequence[CaseResult], judged: bool) -> Totals:
    """Means of per-case metrics over the rows that have them, plus set-level metrics.

    1. Error rows count in ``cases``, ``errors``, error_rate and pass_rate (as
       failures) and nowhere else.
    2. Each per-case metric is the mean over the rows where it is defined
       (retrieval and answer metrics: answerable cases; passage metrics: cases
       with evidence quotes; citation metrics: cases with citations; date,
       conflict, script and filter metrics: cases with that gold field).
    3. Refusal metrics come from (refused, answerable) of all answered rows.
    4. Latency percentiles and seconds per question over answered rows; tokens
       summed when any row has usage; cost summed only when every row with usage has a price.
    5. With a judge: judge_error_rate = judge errors / rows sent to the judge.
    """
    ok = [r for r in rows if r.error is None]
    out: dict[str, float | None] = {
        "pass_rate": _mean([float(r.passed) for r in rows]),
        "error_rate": _mean([float(r.error is not None) for r in rows]),
    }
    counts: dict[str, int] = {"pass_rate": len(rows), "error_rate": len(rows)}
    per_case = [k for k in m.METRICS if any(k in r.metrics for r in ok)]
    for key in per_case:
        values = [v for r in ok if (v := r.metrics.get(key)) is not None]
        out[key] = _mean(values)
        counts[key] = len(values)
    out.update(m.refusal_scores([(bool(r.refused), r.answerable) for r in ok]))
    counts["refusal_precision"] = sum(bool(r.refused) for r in ok)
    counts["refusal_recall"] = sum(not r.answerable for r in ok)
    counts["over_refusal_rate"] = sum(r.answerable for r in ok)
    latencies = [r.latency_ms for r in ok if r.latency_ms is not None]
    counts["latency_p50_ms"] = counts["latency_p95_ms"] = counts["seconds_per_question"] = len(latencies)
    mean_ms = _mean(latencies)
    out["seconds_per_question"] = mean_ms / 1000 if mean_ms is not None else None
    out["latency_p50_ms"] = m.percentile(latencies, 50)
    out["latency_p95_ms"] = m.percentile(latencies, 95)
    used = [r for r in ok if r.usage is not None]
    out["input_tokens"] = float(sum(r.usage.input_tokens for r in used if r.usage)) if used else None
    out["output_tokens"] = float(sum(r.usage.output_tokens for r in used if r.usage)) if used else None
    costs = [r.cost_usd for r in used]
    out["cost_usd"] = sum(c for c in costs if c is not None) if used and None not in costs else None
    if judged:
        sent = [r for r in ok if r.judge is not None or r.judge_error is not None]
        out["judge_error_rate"] = _mean([float(r.judge_error is not None) for r in sent])
        counts["judge_error_rate"] = len(sent)
    ordered = {key: out.get(key) for key in m.METRICS if key in out}
    return Totals(cases=len(rows), errors=len(rows) - len(ok), metrics=ordered, counts=counts)


class SystemTotals(BaseModel):
    overall: Totals
    by_dataset: dict[str, Totals]
    by_split: dict[str, Totals] = Field(default_factory=dict, description="dev / test, for the cases run.")
    by_tag: dict[str, Totals] = Field(default_factory=dict, description="One slice per case tag (category).")


def system_totals(rows: Sequence[CaseResult], judged: bool) -> SystemTotals:
    datasets = list(dict.fromkeys(r.dataset for r in rows))
    splits = sorted({r.split for r in rows if r.split})
    tags = sorted({t for r in rows for t in r.tags})
    return SystemTotals(
        overall=aggregate(rows, judged),
        by_dataset={d: aggregate([r for r in rows if r.dataset == d], judged) for d in datasets},
        by_split={s: aggregate([r for r in rows if r.split == s], judged) for s in splits},
        by_tag={t: aggregate([r for r in rows if t in r.tags], judged) for t in tags},
    )


def totals_by_system(
    rows: Sequence[CaseResult], judged: bool, subset: tuple[str, Collection[tuple[str, str]]] | None = None
) -> dict[str, SystemTotals]:
    """Totals of every system; with ``subset`` = (name, case keys), also ``name`` over just those keys.

    The runner uses the subset to total the extractive answerer on exactly the
    cases the (slower) LLM answerer ran, so the two columns compare like with like.
    """
    systems = list(dict.fromkeys(r.system for r in rows))
    out = {s: system_totals([r for r in rows if r.system == s], judged) for s in systems}
    if subset is not None:
        name, keys = subset
        source = name.split("@", 1)[0]
        out[name] = system_totals([r for r in rows if r.system == source and r.key in keys], judged)
    return out
