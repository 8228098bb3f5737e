"""The thresholds `rag eval` gates on: read ``evals/thresholds.toml`` and check a run against it.

What it does: reads bounds per split and answerer —
``[SPLIT.ANSWERER.min]`` / ``.max`` with SPLIT ``all``, ``dev`` or ``test`` and
ANSWERER ``default``, ``extractive`` or ``baseline``, plus
``[SPLIT.ANSWERER.datasets.NAME.min]`` for one dataset — and lists the totals
outside them. A split's bounds apply when that split's totals are in the
run (a ``--split all`` run carries both splits' totals; a ``--split test``
run only test's); ``extractive`` bounds apply to the default answerer when
the default is the extractive one. Scopes a run cannot check are returned as
skipped, never failed. What it leaves out: rendering and comparing runs.
"""

from __future__ import annotations

from pathlib import Path

from rag.errors import ConfigError
from rag.evaluation.toml_file import read_toml
from rag.evaluation.metric_info import METRICS
from rag.evaluation.runner import DEFAULT, EXTRACTIVE, EvalRun, ThresholdFailure
from rag.evaluation.totals import Totals

SPLIT_SCOPES = ("all", "dev", "test")
ANSWERERS = ("default", "extractive", "baseline")
# scope "split · answerer" or "split · answerer · dataset" → "min"/"max" → metric → bound
Thresholds = dict[str, dict[str, dict[str, float]]]


def _bounds(path: Path, scope: str, table: object, out: Thresholds) -> None:
    if not isinstance(table, dict) or set(table) - {"min", "max"}:
        raise ConfigError(f"{path}: [{scope.replace(' · ', '.')}] may hold only 'min' and 'max' tables")
    for bound, values in table.items():
        for metric, value in values.items():
            if metric not in METRICS:
                raise ConfigError(f"{path}: unknown metric {metric!r} in [{scope.replace(' · ', '.')}.{bound}]")
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ConfigError(f"{path}: {scope.replace(' · ', '.')}.{bound}.{metric} must be a number")
            out.setdefault(scope, {}).setdefault(bound, {})[metric] = float(value)


def load_thresholds(path: Path) -> Thresholds:
    """``{scope: {"min"|"max": {metric: value}}}`` from TOML; ``ConfigError`` on any mistake."""
    raw = read_toml(path)
    if set(raw) - set(SPLIT_SCOPES):
        raise ConfigError(f"{path}: unknown tables {sorted(set(raw) - set(SPLIT_SCOPES))}; "
                          "use [test.extractive.min], [all.default.max], …")
    out: Thresholds = {}
    for split, answerers in raw.items():
        if not isinstance(answerers, dict) or set(answerers) - set(ANSWERERS):
            raise ConfigError(f"{path}: [{split}] may hold only the answerers {', '.join(ANSWERERS)}")
        for answerer, table in answerers.items():
            datasets = dict(table).pop("datasets", None) or {}
            _bounds(path, f"{split} · {answerer}", {k: v for k, v in table.items() if k != "datasets"}, out)
            for name, dtable in datasets.items():
                _bounds(path, f"{split} · {answerer} · {name}", dtable, out)
    return out


def _totals(run: EvalRun, scope: str) -> Totals | None:
    split, answerer, *dataset = scope.split(" · ")
    system = answerer
    if answerer == EXTRACTIVE and EXTRACTIVE not in run.totals and run.answerers.get(DEFAULT) == "extractive":
        system = DEFAULT
    totals = run.totals.get(system)
    if totals is None:
        return None
    if dataset:
        return totals.by_dataset.get(dataset[0]) if run.split == split else None
    if split == "all":
        return totals.overall if run.split == "all" else None
    return totals.by_split.get(split)


def check_thresholds(run: EvalRun, thresholds: Thresholds) -> tuple[list[ThresholdFailure], list[str]]:
    """Failures, and the scopes skipped because this run has no totals for them.

    A metric with a threshold but no value (not measured in this run) fails.
    """
    failures: list[ThresholdFailure] = []
    skipped: list[str] = []
    for scope, bounds in thresholds.items():
        totals = _totals(run, scope)
        if totals is None:
            skipped.append(scope)
            continue
        for bound, values in bounds.items():
            for metric, threshold in values.items():
                value = totals.metrics.get(metric)
                bad = value is None or (value < threshold if bound == "min" else value > threshold)
                if bad:
                    failures.append(ThresholdFailure.model_validate(
                        {"scope": scope, "metric": metric, "bound": bound, "threshold": threshold, "value": value}
                    ))
    return failures, skipped
