"""The Eval results page's data: the latest run, read through the typed ``EvalRun`` loader, as tables.

What it does: finds the newest readable ``report.json`` under the runs
directory (``rag.evaluation.report.readable_runs``, which reads each with
``load_report``; unreadable ones are reported, not raised), reads its
comparison with the previous run typed (``rag.evaluation.comparison``), and
turns it into pandas tables with the metric names and one-line definitions
of ``evals/README.md`` (``rag.evaluation.tables``), so the page, report.md
and report.html show the same thing. No Streamlit
here and no metric is computed: numbers are shown as the report has them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rag.evaluation import tables
from rag.evaluation.comparison import comparison_of
from rag.evaluation.metric_info import METRICS
from rag.evaluation.report import readable_runs
from rag.evaluation.runner import DEFAULT, EvalRun

# The headline tiles: the numbers a reader looks at first.
TILES = ("pass_rate", "fact_recall", "passage_hit", "refusal_recall", "over_refusal_rate", "language_match",
         "citation_validity", "seconds_per_question")


@dataclass
class Loaded:
    path: Path
    run: EvalRun

    @property
    def compared_with(self) -> str | None:
        """When the run this one was compared with was made; None when it was not compared."""
        comparison = comparison_of(self.run)
        return comparison.previous_created if comparison else None


def runs_dir(settings: Any) -> Path:
    """Where runs live (``RAG_EVAL_RUNS_DIR``, default ``evals/runs``)."""
    return Path(settings.eval_runs_dir)


def latest(runs: Path) -> tuple[Loaded | None, list[str]]:
    """The newest readable run under ``runs`` (by file time), and why any newer one was skipped."""
    problems: list[str] = []
    for file, run in readable_runs(runs, problems.append):
        return Loaded(file, run), problems
    return None, problems


def _frame(table: tuple[list[str], list[list[str]]], index: str | None = None) -> pd.DataFrame:
    header, rows = table
    frame = pd.DataFrame(rows, columns=header)
    return frame.set_index(index) if index else frame


def side_by_side(run: EvalRun) -> pd.DataFrame:
    """The answerers side by side, each metric with its one-line definition."""
    return _frame(tables.headline(run, defined=True), "metric")


def per_split(run: EvalRun) -> pd.DataFrame:
    return _frame(tables.split_table(run, defined=True), "metric")


def per_category(run: EvalRun) -> pd.DataFrame:
    return _frame(tables.category_table(run), "category (tag)")


def changes(run: EvalRun) -> dict[str, pd.DataFrame]:
    """Per answerer: before / now / Δ for each metric, against the run the report compared with."""
    out = {}
    for system in run.totals:
        header, rows = tables.comparison_table(run, system)
        if rows:
            out[system] = pd.DataFrame(rows, columns=header).set_index("metric")
    return out


@dataclass
class Tile:
    label: str
    value: str
    delta: str | None
    help: str
    higher_is_better: bool


def tiles(run: EvalRun, system: str = DEFAULT) -> list[Tile]:
    """The default answerer's headline numbers, each with its change since the previous run."""
    totals = run.totals.get(system) or next(iter(run.totals.values()))
    comparison = comparison_of(run)
    changes = comparison.changes(system) if comparison else {}
    out = []
    for key in TILES:
        value = totals.overall.metrics.get(key)
        if value is None:
            continue
        delta = changes[key].delta if key in changes else None
        out.append(Tile(
            label=tables.label(key, run.k), value=tables.fmt(key, value),
            delta=None if delta is None else tables.fmt_delta(key, delta).split(" ")[0],
            help=tables.definition(key, run.k), higher_is_better=METRICS[key].higher_is_better,
        ))
    return out


def chart_data(run: EvalRun) -> pd.DataFrame:
    """Long table (metric, answerer, value) of the charted ratios, for a grouped bar chart."""
    rows = [
        {"metric": tables.label(key, run.k), "answerer": system, "value": value}
        for system, totals in run.totals.items()
        for key in tables.CHART_METRICS
        if (value := totals.overall.metrics.get(key)) is not None
    ]
    return pd.DataFrame(rows, columns=["metric", "answerer", "value"])


def category_chart_data(run: EvalRun) -> pd.DataFrame:
    """Long table (category, answerer, pass rate) for the per-category chart."""
    rows = [
        {"category": tag, "answerer": system, "pass rate": value}
        for system, totals in run.totals.items()
        for tag, t in totals.by_tag.items()
        if (value := t.metrics.get("pass_rate")) is not None
    ]
    return pd.DataFrame(rows, columns=["category", "answerer", "pass rate"])


def questions(run: EvalRun) -> pd.DataFrame:
    """One row per (case, answerer): what was asked, whether it passed and why not."""
    rows = [
        {"case": f"{r.dataset}/{r.id}", "answerer": r.system, "split": r.split or "—", "categories": ", ".join(r.tags),
         "question": r.user_input, "passed": r.passed, "why it failed": "; ".join(r.fail_reasons),
         "fact recall": r.metrics.get("fact_recall"), "seconds": None if r.latency_ms is None else r.latency_ms / 1000}
        for r in run.cases
    ]
    return pd.DataFrame(rows)
