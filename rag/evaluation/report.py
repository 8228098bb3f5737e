"""Eval runs on disk: load a report.json, find the previous run, compare two runs, write the reports.

What it does: ``load_report`` reads report.json into the typed ``EvalRun``
(older reports, whose configured answerer was called "pipeline", are read
with it renamed "default"); ``readable_runs`` walks the runs directory newest
first, reporting the files that are not reports; ``previous_run`` finds the
newest earlier run of the same split there; ``compare`` gives each metric's
change per answerer and scope and the cases that flipped between pass and
fail (a ``comparison.Comparison``); ``write_reports`` writes report.json,
report.md and report.html.

What it leaves out: running cases (``runner.py``), thresholds (``gate.py``)
and the markup (``tables.py``, ``render_md.py``, ``render_html.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rag.errors import ConfigError
from rag.evaluation.comparison import Comparison, Flip, MetricChange
from rag.evaluation.metric_info import METRICS
from rag.evaluation.render_html import render_html
from rag.evaluation.render_md import render_markdown
from rag.evaluation.runner import DEFAULT, EvalRun
from rag.evaluation.totals import Totals

_OLD_DEFAULT = "pipeline"


def _upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A schema-1 report with its "pipeline" system renamed "default"."""
    rename = lambda s: DEFAULT if s == _OLD_DEFAULT else s  # noqa: E731
    data["systems"] = [rename(s) for s in data.get("systems", [])]
    data["totals"] = {rename(s): t for s, t in (data.get("totals") or {}).items()}
    for row in data.get("cases", []):
        if isinstance(row, dict):
            row["system"] = rename(row.get("system"))
    if isinstance(data.get("comparison"), dict):
        data["comparison"]["metrics"] = {rename(s): v for s, v in data["comparison"].get("metrics", {}).items()}
    return data


def load_report(path: Path) -> EvalRun:
    """A run from its directory or its report.json; ``ConfigError`` when it is not one."""
    file = path / "report.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return EvalRun.model_validate(_upgrade(data) if data.get("schema_version", 1) < 2 else data)
    except OSError as exc:
        raise ConfigError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        count = f"{exc.error_count()} problems" if isinstance(exc, ValidationError) else str(exc)
        raise ConfigError(f"{file}: not a report.json written by rag eval ({count})") from None


def readable_runs(runs_dir: Path, skipped: Callable[[str], None] | None = None) -> Iterator[tuple[Path, EvalRun]]:
    """Each readable ``*/report.json`` under ``runs_dir`` with its run, newest file first; why any
    other was unreadable goes to ``skipped``."""
    files = sorted(runs_dir.glob("*/report.json"), key=lambda p: p.stat().st_mtime, reverse=True) \
        if runs_dir.is_dir() else []
    for file in files:
        try:
            run = load_report(file)
        except ConfigError as exc:
            if skipped:
                skipped(str(exc))
            continue
        yield file, run


def previous_run(runs_dir: Path, split: str, exclude: Path | None = None) -> tuple[Path, EvalRun] | None:
    """The newest readable run of ``split`` under ``runs_dir`` (by file time), other than ``exclude``."""
    skip = exclude.resolve() if exclude else None
    for file, run in readable_runs(runs_dir):
        if (skip is None or file.parent.resolve() != skip) and run.split == split:
            return file.parent, run
    return None


def _delta(before: Totals | None, after: Totals | None) -> dict[str, MetricChange]:
    out: dict[str, MetricChange] = {}
    for metric in METRICS:
        b = before.metrics.get(metric) if before else None
        a = after.metrics.get(metric) if after else None
        if a is None and b is None:
            continue
        out[metric] = MetricChange(before=b, after=a, delta=a - b if a is not None and b is not None else None)
    return out


def compare(current: EvalRun, previous: EvalRun, previous_path: str) -> dict[str, Any]:
    """Each metric's change per answerer and scope (overall, datasets, splits), and the default's flipped cases.

    Returned as the JSON object ``EvalRun.comparison`` holds (a dumped ``Comparison``);
    read it back typed with ``comparison.comparison_of``.
    """
    metrics: dict[str, dict[str, dict[str, MetricChange]]] = {}
    for system, now in current.totals.items():
        before = previous.totals.get(system)
        if before is None:
            continue
        scopes = {"overall": _delta(before.overall, now.overall)}
        for name, totals in now.by_dataset.items():
            if name in before.by_dataset:
                scopes[name] = _delta(before.by_dataset[name], totals)
        for name, totals in now.by_split.items():
            if name in before.by_split:
                scopes[f"split:{name}"] = _delta(before.by_split[name], totals)
        metrics[system] = scopes
    old = {r.key: r for r in previous.rows(DEFAULT)}
    new = {r.key: r for r in current.rows(DEFAULT)}
    flips: dict[str, list[Flip]] = {"pass_to_fail": [], "fail_to_pass": []}
    for key, row in new.items():
        prev = old.get(key)
        if prev is None or prev.passed == row.passed:
            continue
        item = Flip(dataset=row.dataset, id=row.id, question=row.user_input,
                    reasons=row.fail_reasons if not row.passed else prev.fail_reasons)
        flips["fail_to_pass" if row.passed else "pass_to_fail"].append(item)
    hashes_before = {d.name: d.sha256 for d in previous.datasets}
    changed = [d.name for d in current.datasets if d.name in hashes_before and hashes_before[d.name] != d.sha256]
    return Comparison(
        previous=previous_path,
        previous_created=previous.created,
        previous_models=previous.models,
        metrics=metrics,
        flips=flips,
        only_before=len(set(old) - set(new)),
        only_now=len(set(new) - set(old)),
        datasets_changed=changed,
    ).model_dump()


def write_reports(run: EvalRun, out_dir: Path) -> Mapping[str, Path]:
    """report.json, report.md and report.html in ``out_dir`` (created if needed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md", "html": out_dir / "report.html"}
    paths["json"].write_text(run.model_dump_json(indent=1), encoding="utf-8")
    paths["md"].write_text(render_markdown(run), encoding="utf-8")
    paths["html"].write_text(render_html(run), encoding="utf-8")
    return paths
