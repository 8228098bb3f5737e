"""Read the latest eval report (``evals/runs/*/report.json``) defensively, for the Eval results page.

The harness owns the format; this module only assumes a JSON object with
per-case rows (a list of objects under a key such as ``cases`` or ``rows``) and
totals (an object of numbers under a key such as ``totals``), flattening
nested objects into dotted names. Anything unreadable is reported, not raised.
No Streamlit here and no metric is computed: numbers are shown as the report has them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


CASE_KEYS = ("cases", "rows", "per_case", "results", "questions", "items")
TOTAL_KEYS = ("totals", "total", "summary", "metrics", "aggregate", "overall")
_FAIL_FALSE = ("passed", "pass", "ok", "success", "correct")
_FAIL_TRUE = ("failed", "fail", "failure", "error")


@dataclass
class Report:
    path: Path
    totals: dict[str, float] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def runs_dir(settings: Any) -> Path:
    """Where runs live (``RAG_EVAL_RUNS_DIR``, default ``evals/runs``)."""
    return Path(settings.eval_runs_dir)


def flatten(obj: Any, prefix: str = "", depth: int = 0) -> dict[str, Any]:
    """Nested dicts → one level with dotted keys; lists of scalars joined; deeper lists dropped."""
    out: dict[str, Any] = {}
    if not isinstance(obj, dict):
        return out
    for k, v in obj.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict) and depth < 3:
            out.update(flatten(v, f"{name}.", depth + 1))
        elif isinstance(v, list):
            if all(isinstance(x, (str, int, float, bool)) or x is None for x in v):
                out[name] = ", ".join(str(x) for x in v)
        else:
            out[name] = v
    return out


def numeric(values: dict[str, Any]) -> dict[str, float]:
    return {
        k: float(v) for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def _find_rows(obj: Any, depth: int = 0) -> list[dict[str, Any]]:
    if not isinstance(obj, dict) or depth > 2:
        return []
    for k in CASE_KEYS:
        v = obj.get(k)
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            return v
    for v in obj.values():
        found = _find_rows(v, depth + 1)
        if found:
            return found
    return []


def load(path: Path) -> Report:
    """Parse one report.json; raises ``ValueError`` with a short reason when it is unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a JSON object")
    totals_obj = next((data[k] for k in TOTAL_KEYS if isinstance(data.get(k), dict)), {})
    rows = [flatten(r) for r in _find_rows(data)]
    meta = {k: v for k, v in data.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)}
    return Report(path=path, totals=numeric(flatten(totals_obj)), rows=rows, meta=meta)


def latest(runs: Path) -> tuple[Report | None, list[str]]:
    """The newest readable report under ``runs`` (by file time), and reasons for any skipped."""
    problems: list[str] = []
    candidates = sorted(runs.glob("*/report.json"), key=lambda p: p.stat().st_mtime, reverse=True) if runs.is_dir() else []
    for path in candidates:
        try:
            return load(path), problems
        except ValueError as exc:
            problems.append(str(exc))
    return None, problems


def is_failure(row: dict[str, Any]) -> bool:
    """A row the report marks as failed: a false pass flag, a true fail flag, an error or a fail status."""
    for key, value in row.items():
        name = key.rsplit(".", 1)[-1].lower()
        if name in _FAIL_FALSE and value is False:
            return True
        if name in _FAIL_TRUE and value not in (None, False, "", 0):
            return True
        if name == "status" and str(value).lower() in ("fail", "failed", "error"):
            return True
    return False


def row_metrics(rows: list[dict[str, Any]]) -> list[str]:
    """Numeric per-case columns worth charting (not ids, indices or timings of zero variance)."""
    names: dict[str, None] = {}
    for row in rows:
        for k, v in numeric(row).items():
            if k.rsplit(".", 1)[-1].lower() not in ("id", "index", "n", "k"):
                names[k] = None
    return list(names)


def case_label(row: dict[str, Any], i: int) -> str:
    for k in ("id", "case_id", "name"):
        if row.get(k) not in (None, ""):
            return str(row[k])
    return f"#{i + 1}"
