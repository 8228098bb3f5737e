"""The report's tables and wording, shared by the terminal, report.md, report.html and the app.

What it does: formats values and deltas by metric kind, labels metrics as
``evals/README.md`` names them, and builds (header, rows) tables: answerers
side by side, per dataset, per split, per category (tag), and the change
against a previous run. What it leaves out: markup (``render_md.py``,
``render_html.py``, the app page) and computing any number.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.evaluation.comparison import comparison_of
from rag.evaluation.metric_info import METRICS
from rag.evaluation.runner import BASELINE, DEFAULT, EvalRun, ThresholdFailure
from rag.evaluation.totals import Totals

Table = tuple[list[str], list[list[str]]]

# Flip kinds: (key, title, whose fail reasons are shown).
FLIPS = (("pass_to_fail", "Pass → fail", "now fails"), ("fail_to_pass", "Fail → pass", "failed before"))
# The few metrics the per-category table shows, one column each per answerer.
CATEGORY_METRICS = ("pass_rate", "fact_recall", "passage_hit", "refusal_recall", "language_match")
# The ratios charted side by side per answerer (report.html and the app), on one 0–1 axis.
CHART_METRICS = ("pass_rate", "doc_hit", "passage_hit", "fact_recall", "date_recall", "conflict_coverage",
                 "language_match", "script_match", "refusal_recall", "over_refusal_rate")

PASS_RULE = (
    "A case passes when it ran without error or judge error and: unanswerable → refused; "
    "answerable → not refused, every gold fact stated, at least one citation, all citations "
    "valid and every quote verbatim at its span."
)


def fmt(metric: str, value: float | None) -> str:
    if value is None:
        return "—"
    kind = METRICS[metric].kind if metric in METRICS else "ratio"
    if kind == "ms":
        return f"{value:,.0f} ms"
    if kind == "s":
        return f"{value:,.2f} s"
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "usd":
        return f"${value:.4f}"
    return f"{value:.3f}"


def fmt_delta(metric: str, delta: float | None) -> str:
    if delta is None:
        return "—"
    if abs(delta) < 1e-12:
        return "±0"
    better = (delta > 0) == METRICS[metric].higher_is_better
    kind = METRICS[metric].kind
    text = (f"{delta:+,.0f}" if kind in ("ms", "count") else f"{delta:+.4f}" if kind == "usd"
            else f"{delta:+.2f}" if kind == "s" else f"{delta:+.3f}")
    return f"{text} ({'better' if better else 'worse'})"


def label(metric: str, k: int) -> str:
    return METRICS[metric].label.replace("@k", f"@{k}")


def definition(metric: str, k: int) -> str:
    return METRICS[metric].meaning.replace("top-k", f"top-{k}")


def describe_failure(f: ThresholdFailure) -> str:
    value = "not measured" if f.value is None else fmt(f.metric, f.value)
    sign = "≥" if f.bound == "min" else "≤"
    return f"{f.scope}: {f.metric} = {value}, needs {sign} {fmt(f.metric, f.threshold)}"


def column_title(run: EvalRun, system: str) -> str:
    """'default (openai:qwen)', 'extractive', 'extractive@llm-subset', 'baseline'."""
    model = run.answerers.get(system)
    return f"{system} ({model})" if system == DEFAULT and model else system


def metric_rows(columns: Sequence[Totals | None]) -> list[str]:
    return [m for m in METRICS if any(c is not None and c.metrics.get(m) is not None for c in columns)]


CASES_MEANING = "cases run (an LLM answerer may run a fixed subset)"


def _metric_table(
    run: EvalRun, titles: list[str], columns: list[Totals | None], delta: bool = False, defined: bool = False
) -> Table:
    """A metric per row, a column per total; ``defined`` adds each metric's one-line definition."""
    header = ["metric", *titles] + (["Δ default − baseline"] if delta else []) + (["definition"] if defined else [])
    rows = [["cases", *(str(c.cases) if c else "—" for c in columns)] + ([""] if delta else [])
            + ([CASES_MEANING] if defined else [])]
    for metric in metric_rows(columns):
        row = [label(metric, run.k), *(fmt(metric, c.metrics.get(metric) if c else None) for c in columns)]
        if delta:
            p = run.totals[DEFAULT].overall.metrics.get(metric)
            b = run.totals[BASELINE].overall.metrics.get(metric)
            row.append(fmt_delta(metric, p - b if p is not None and b is not None else None))
        if defined:
            row.append(definition(metric, run.k))
        rows.append(row)
    return header, rows


def headline(run: EvalRun, defined: bool = False) -> Table:
    """Every answerer side by side on the cases run, and default − baseline when both ran."""
    systems = list(run.totals)
    both = DEFAULT in systems and BASELINE in systems
    return _metric_table(run, [column_title(run, s) for s in systems], [run.totals[s].overall for s in systems],
                         both, defined)


def dataset_table(run: EvalRun) -> Table:
    keys = [(d.name, s) for d in run.datasets for s in run.totals]
    titles = [f"{name} · {s}" if len(run.totals) > 1 else name for name, s in keys]
    return _metric_table(run, titles, [run.totals[s].by_dataset.get(name) for name, s in keys])


def split_table(run: EvalRun, defined: bool = False) -> Table:
    splits = sorted({sp for t in run.totals.values() for sp in t.by_split})
    keys = [(sp, s) for sp in splits for s in run.totals]
    columns = [run.totals[s].by_split.get(sp) for sp, s in keys]
    return _metric_table(run, [f"{sp} · {s}" for sp, s in keys], columns, defined=defined)


def category_table(run: EvalRun) -> Table:
    """One row per tag: its case count and the key metrics for each answerer."""
    systems = list(run.totals)
    tags = sorted({t for s in systems for t in run.totals[s].by_tag})
    header = ["category (tag)", "cases"] + [f"{label(m, run.k)} · {s}" for m in CATEGORY_METRICS for s in systems]
    rows = []
    for tag in tags:
        cells = [tag, str(max((run.totals[s].by_tag[tag].cases for s in systems if tag in run.totals[s].by_tag),
                               default=0))]
        for metric in CATEGORY_METRICS:
            for s in systems:
                t = run.totals[s].by_tag.get(tag)
                cells.append(fmt(metric, t.metrics.get(metric) if t else None))
        rows.append(cells)
    return header, rows


def comparison_table(run: EvalRun, system: str = DEFAULT, scope: str = "overall", changed_only: bool = False) -> Table:
    """before / now / Δ per metric; ``changed_only`` drops the metrics whose value did not move."""
    comparison = comparison_of(run)
    changes = comparison.changes(system, scope) if comparison else {}
    rows = [
        [label(mt, run.k), fmt(mt, d.before), fmt(mt, d.after), fmt_delta(mt, d.delta)]
        for mt, d in changes.items()
        if mt in METRICS and (not changed_only or d.delta is None or abs(d.delta) > 1e-12)
    ]
    return ["metric", "before", "now", "Δ"], rows


def definitions(run: EvalRun) -> list[tuple[str, str, str]]:
    """(label, key, one-line definition) of every metric, in report order."""
    return [(label(key, run.k), key, definition(key, run.k)) for key in METRICS]


def summary_line(run: EvalRun) -> str:
    datasets = ", ".join(f"{d.name} {d.run}" + (f"/{d.cases}" if d.run != d.cases else "") for d in run.datasets)
    answerers = ", ".join(f"{s} = {m}" for s, m in run.answerers.items()) or ", ".join(run.systems)
    subset = f" · LLM on a fixed subset of {len(run.llm_subset)} cases" if run.llm_subset else ""
    return (
        f"split {run.split} · answerers: {answerers} · embedder `{run.models['embedding_model']}` · "
        f"judge `{run.models.get('judge_model') or 'none'}` · k={run.k} · cases: {datasets}{subset} · "
        f"wall time {run.wall_time_s:.1f} s"
    )


def gate_lines(run: EvalRun) -> list[str]:
    if not run.thresholds_file:
        return ["No thresholds checked."]
    if not run.threshold_failures:
        return [f"All thresholds in `{run.thresholds_file}` that this run can check pass."]
    return [f"**{len(run.threshold_failures)} threshold(s) failed** (`{run.thresholds_file}`):"] + [
        f"- {describe_failure(f)}" for f in run.threshold_failures
    ]


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])
