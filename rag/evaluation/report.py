"""Judge a finished ``EvalRun`` against thresholds and a previous run, and render it.

What it does: reads ``thresholds.toml`` and lists the pipeline totals below a
minimum or above a maximum; compares with a previous ``report.json`` (each
metric's change, the cases that flipped between pass and fail); writes
``report.json``, ``report.md`` and a self-contained ``report.html`` (inline CSS,
no scripts or external assets, every piece of text HTML-escaped) with a
drill-down per question; and formats the headline table for the terminal.

What it leaves out: running cases and computing metrics (``runner.py``,
``metrics.py``) and the command line (``command.py``).
"""

from __future__ import annotations

import html
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rag.errors import ConfigError
from rag.evaluation.metrics import METRICS
from rag.evaluation.runner import (
    BASELINE,
    PIPELINE,
    CaseResult,
    EvalRun,
    ThresholdFailure,
    Totals,
)

Thresholds = dict[str, dict[str, dict[str, float]]]  # scope → "min"/"max" → metric → bound
# Flip kinds: (key, title, whose fail reasons are shown).
FLIPS = (("pass_to_fail", "Pass → fail", "now fails"), ("fail_to_pass", "Fail → pass", "failed before"))

PASS_RULE = (
    "A case passes when it ran without error or judge error and: unanswerable → refused; "
    "answerable → not refused, every gold fact stated, at least one citation, all citations "
    "valid and every quote verbatim at its span."
)


# ---- thresholds ----------------------------------------------------------------------


def load_thresholds(path: Path) -> Thresholds:
    """``{scope: {"min"|"max": {metric: value}}}`` from TOML; ``ConfigError`` on any mistake.

    Scopes: ``[overall.min]``/``[overall.max]`` and ``[datasets.NAME.min]``/``[datasets.NAME.max]``.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    scopes: dict[str, Any] = {}
    if "overall" in raw:
        scopes["overall"] = raw.pop("overall")
    for name, table in (raw.pop("datasets", None) or {}).items():
        scopes[name] = table
    if raw:
        raise ConfigError(f"{path}: unknown tables {sorted(raw)}; use [overall.min], [datasets.NAME.max], …")
    out: Thresholds = {}
    for scope, table in scopes.items():
        if not isinstance(table, dict) or set(table) - {"min", "max"}:
            raise ConfigError(f"{path}: [{scope}] may hold only 'min' and 'max' tables")
        for bound, values in table.items():
            for metric, value in values.items():
                if metric not in METRICS:
                    raise ConfigError(f"{path}: unknown metric {metric!r} in [{scope}.{bound}]")
                if not isinstance(value, int | float) or isinstance(value, bool):
                    raise ConfigError(f"{path}: {scope}.{bound}.{metric} must be a number")
                out.setdefault(scope, {}).setdefault(bound, {})[metric] = float(value)
    return out


def check_thresholds(run: EvalRun, thresholds: Thresholds) -> tuple[list[ThresholdFailure], list[str]]:
    """Failures on the pipeline's totals, and the dataset scopes skipped because they were not run.

    A metric with a threshold but no value (not measured in this run) fails.
    """
    system = run.totals.get(PIPELINE) or next(iter(run.totals.values()))
    failures: list[ThresholdFailure] = []
    skipped: list[str] = []
    for scope, bounds in thresholds.items():
        totals = system.overall if scope == "overall" else system.by_dataset.get(scope)
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


def describe_failure(f: ThresholdFailure) -> str:
    value = "not measured" if f.value is None else fmt(f.metric, f.value)
    sign = "≥" if f.bound == "min" else "≤"
    return f"{f.scope}: {f.metric} = {value}, needs {sign} {fmt(f.metric, f.threshold)}"


# ---- comparing with a previous run ---------------------------------------------------


def load_report(path: Path) -> EvalRun:
    """A previous run from its directory or its report.json."""
    file = path / "report.json" if path.is_dir() else path
    try:
        return EvalRun.model_validate_json(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    except ValidationError as exc:
        raise ConfigError(f"{file}: not a report.json written by rag eval ({exc.error_count()} problems)") from None


def _delta(before: Totals | None, after: Totals | None) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for metric in METRICS:
        b = before.metrics.get(metric) if before else None
        a = after.metrics.get(metric) if after else None
        if a is None and b is None:
            continue
        out[metric] = {"before": b, "after": a, "delta": a - b if a is not None and b is not None else None}
    return out


def compare(current: EvalRun, previous: EvalRun, previous_path: str) -> dict[str, Any]:
    """Each metric's change per system and scope, and the pipeline cases that flipped."""
    metrics: dict[str, dict[str, Any]] = {}
    for system, now in current.totals.items():
        before = previous.totals.get(system)
        if before is None:
            continue
        scopes = {"overall": _delta(before.overall, now.overall)}
        for name, totals in now.by_dataset.items():
            if name in before.by_dataset:
                scopes[name] = _delta(before.by_dataset[name], totals)
        metrics[system] = scopes
    old = {r.key: r for r in previous.rows(PIPELINE)}
    new = {r.key: r for r in current.rows(PIPELINE)}
    flips: dict[str, list[dict[str, Any]]] = {"pass_to_fail": [], "fail_to_pass": []}
    for key, row in new.items():
        prev = old.get(key)
        if prev is None or prev.passed == row.passed:
            continue
        item = {"dataset": row.dataset, "id": row.id, "question": row.user_input,
                "reasons": row.fail_reasons if not row.passed else prev.fail_reasons}
        flips["fail_to_pass" if row.passed else "pass_to_fail"].append(item)
    hashes_before = {d.name: d.sha256 for d in previous.datasets}
    changed = [d.name for d in current.datasets if d.name in hashes_before and hashes_before[d.name] != d.sha256]
    return {
        "previous": previous_path,
        "previous_created": previous.created,
        "previous_models": previous.models,
        "metrics": metrics,
        "flips": flips,
        "only_before": len(set(old) - set(new)),
        "only_now": len(set(new) - set(old)),
        "datasets_changed": changed,
    }


# ---- formatting ----------------------------------------------------------------------


def fmt(metric: str, value: float | None) -> str:
    if value is None:
        return "—"
    kind = METRICS[metric].kind if metric in METRICS else "ratio"
    if kind == "ms":
        return f"{value:,.0f} ms"
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
    text = f"{delta:+,.0f}" if kind in ("ms", "count") else f"{delta:+.4f}" if kind == "usd" else f"{delta:+.3f}"
    return f"{text} ({'better' if better else 'worse'})"


def label(metric: str, k: int) -> str:
    return METRICS[metric].label.replace("@k", f"@{k}")


def _metric_rows(columns: Sequence[Totals | None]) -> list[str]:
    return [
        metric for metric in METRICS
        if any(c is not None and c.metrics.get(metric) is not None for c in columns)
    ]


def headline(run: EvalRun) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the overall table: metric, each system, pipeline − baseline."""
    systems = run.systems
    both = PIPELINE in systems and BASELINE in systems
    header = ["metric", *systems] + (["Δ pipeline − baseline"] if both else [])
    columns = [run.totals[s].overall for s in systems]
    rows = []
    for metric in _metric_rows(columns):
        values = [c.metrics.get(metric) for c in columns]
        row = [label(metric, run.k), *(fmt(metric, v) for v in values)]
        if both:
            p, b = run.totals[PIPELINE].overall.metrics.get(metric), run.totals[BASELINE].overall.metrics.get(metric)
            row.append(fmt_delta(metric, p - b if p is not None and b is not None else None))
        rows.append(row)
    cases = [str(run.totals[s].overall.cases) for s in systems]
    rows.insert(0, ["cases", *cases] + ([""] if both else []))
    return header, rows


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    out = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def dataset_table(run: EvalRun) -> tuple[list[str], list[list[str]]]:
    """One table: a column per (dataset, system)."""
    keys = [(d.name, s) for d in run.datasets for s in run.systems]
    columns = [run.totals[s].by_dataset.get(name) for name, s in keys]
    header = ["metric", *(f"{name} {s}" if len(run.systems) > 1 else name for name, s in keys)]
    rows = [["cases", *(str(c.cases) if c else "—" for c in columns)]]
    for metric in _metric_rows(columns):
        rows.append([label(metric, run.k), *(fmt(metric, c.metrics.get(metric) if c else None) for c in columns)])
    return header, rows


def comparison_table(
    run: EvalRun, system: str = PIPELINE, scope: str = "overall", changed_only: bool = False
) -> tuple[list[str], list[list[str]]]:
    """before / now / Δ per metric; ``changed_only`` drops the metrics whose value did not move."""
    cmp = (run.comparison or {}).get("metrics", {}).get(system, {}).get(scope, {})
    rows = [
        [label(mt, run.k), fmt(mt, d["before"]), fmt(mt, d["after"]), fmt_delta(mt, d["delta"])]
        for mt, d in cmp.items()
        if not changed_only or d["delta"] is None or abs(d["delta"]) > 1e-12
    ]
    return ["metric", "before", "now", "Δ"], rows


def summary_line(run: EvalRun) -> str:
    datasets = ", ".join(f"{d.name} {d.run}" + (f"/{d.cases}" if d.run != d.cases else "") for d in run.datasets)
    return (
        f"chat model `{run.models['chat_model']}` · embedder `{run.models['embedding_model']}` · "
        f"judge `{run.models.get('judge_model') or 'none'}` · k={run.k} · cases: {datasets} · "
        f"systems: {', '.join(run.systems)} · wall time {run.wall_time_s:.1f} s"
    )


def gate_lines(run: EvalRun) -> list[str]:
    if not run.thresholds_file:
        return ["No thresholds checked."]
    if not run.threshold_failures:
        return [f"All thresholds in `{run.thresholds_file}` pass."]
    return [f"**{len(run.threshold_failures)} threshold(s) failed** (`{run.thresholds_file}`):"] + [
        f"- {describe_failure(f)}" for f in run.threshold_failures
    ]


# ---- report.md -----------------------------------------------------------------------


def render_markdown(run: EvalRun) -> str:
    out = [f"# Eval run {run.created}", "", summary_line(run), ""]
    out += ["## Headline (all datasets)", "", md_table(*headline(run)), ""]
    out += ["## Thresholds", "", *gate_lines(run), ""]
    out += ["## Per dataset", "", md_table(*dataset_table(run)), ""]
    out += [f"- `{d.name}`: {d.path} ({d.run} of {d.cases} cases, sha256 {d.sha256[:12]})" for d in run.datasets]
    out += [""]
    if run.comparison:
        c = run.comparison
        out += [f"## Compared with {c['previous']} ({c['previous_created']})", ""]
        if c["datasets_changed"]:
            out += [f"Datasets changed since then: {', '.join(c['datasets_changed'])}.", ""]
        out += [md_table(*comparison_table(run)), ""]
        for kind, title, when in FLIPS:
            items = c["flips"][kind]
            out += [f"**{title}** ({len(items)}):", ""]
            lines = [f"- {i['dataset']}/{i['id']}: {i['question']} — {when}: {'; '.join(i['reasons'])}" for i in items]
            out += lines or ["- none"]
            out += [""]
    for system in run.systems:
        failed = [r for r in run.rows(system) if not r.passed]
        out += [f"## Failures: {system} ({len(failed)} of {len(run.rows(system))})", ""]
        out += [f"- {r.dataset}/{r.id}: {r.user_input} — {'; '.join(r.fail_reasons)}" for r in failed] or ["- none"]
        out += [""]
    out += ["## What the numbers mean", "", PASS_RULE, ""]
    out += [f"- **{label(k, run.k)}** (`{k}`): {v.meaning}" for k, v in METRICS.items()]
    return "\n".join(out) + "\n"


# ---- report.html ---------------------------------------------------------------------

_CSS = """
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC",sans-serif;
margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1rem}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#0a7d32}.fail{color:#b3261e}.muted{color:#666}
details{border:1px solid #ddd;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}details[open]{background:#fcfcfd}
summary{cursor:pointer}pre,.text{white-space:pre-wrap;word-break:break-word;margin:.2rem 0}
.box{background:#f6f6f8;border-radius:4px;padding:.4rem .6rem}.rel{border-left:4px solid #0a7d32}
.quote{background:#fff6d5}code{font-size:12px}.sys{border-top:2px solid #ddd;margin-top:.8rem}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if i else ''}>{_e(c)}</td>" for i, c in enumerate(r)) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _anchor(row: CaseResult) -> str:
    return f"case-{row.dataset}-{row.id}"


def _system_block(row: CaseResult, k: int) -> str:
    parts = [f"<h4>{_e(row.system)}: <span class={'pass' if row.passed else 'fail'}>"
             f"{'pass' if row.passed else 'fail'}</span> {_e('; '.join(row.fail_reasons))}</h4>"]
    if row.error:
        return parts[0] + f"<p class=fail>{_e(row.error)}</p>"
    flags = [f"refused: {row.refused}", f"answer language: {row.response_language}"]
    if row.notice:
        flags.append(f"notice: {row.notice}")
    if row.latency_ms is not None:
        flags.append(f"latency: {row.latency_ms:,.0f} ms")
    parts.append(f"<p class=muted>{_e(' · '.join(flags))}</p>")
    parts.append(f"<div class='box text'>{_e(row.response)}</div>")
    if row.missed_facts:
        missed = "".join(f"<li>{_e(' / '.join(f))}</li>" for f in row.missed_facts)
        parts.append(f"<p><b>Missed facts</b> (any of the forms would do):</p><ul>{missed}</ul>")
    metric_rows = [[label(mt, k), fmt(mt, v)] for mt, v in row.metrics.items() if mt in METRICS]
    parts.append(f"<details><summary>Scores</summary>{_html_table(['metric', 'value'], metric_rows)}</details>")
    if row.judge_error:
        parts.append(f"<p class=fail><b>Judge error:</b> {_e(row.judge_error)}</p>")
    if row.judge:
        j = row.judge
        statements = [
            [s.text, ", ".join(f"[{n}]" for n in s.cited) or "—", "claim" if s.is_claim else "no claim",
             "yes" if s.faithful else "no", "yes" if s.supported else "no",
             ", ".join(f"[{n}]" for n in s.supporting_citations) or "—"]
            for s in j.statements
        ]
        parts.append(
            f"<p><b>Judge</b> ({_e(j.model)}): faithfulness {fmt('faithfulness', j.faithfulness)} — "
            f"{_e(j.faithfulness_reason)}<br>correctness {fmt('correctness', j.correctness)} — "
            f"{_e(j.correctness_reason)}</p>"
            + _html_table(["statement", "cites", "kind", "faithful", "supported", "supporting"], statements)
        )
    cites = "".join(
        f"<li>[{c.n}] <code>{_e(c.chunk_id)}</code> {_e(c.title)}<div class='quote text'>{_e(c.quote)}</div></li>"
        for c in row.citations
    )
    parts.append(f"<p><b>Citations</b> ({len(row.citations)})</p><ul>{cites or '<li>none</li>'}</ul>")
    relevant = set(row.relevant_passages)
    passages = []
    for p in row.passages:
        scores = f"fused {p.score:.4f}"
        if p.dense_score is not None:
            scores += f" · dense {p.dense_score:.3f}"
        if p.keyword_score is not None:
            scores += f" · keyword {p.keyword_score:.3f}"
        tag = " · <span class=pass>holds evidence</span>" if p.n in relevant else ""
        gold = " · gold source" if p.doc_id in row.reference_doc_ids else ""
        passages.append(
            f"<details{' class=rel' if p.n in relevant else ''}><summary>[{p.n}] <code>{_e(p.chunk_id)}</code> "
            f"{_e(p.title)} <span class=muted>{_e(scores + gold)}</span>{tag}</summary>"
            f"<div class=text>{_e(p.text)}</div></details>"
        )
    parts.append(f"<p><b>Passages</b> ({len(row.passages)})</p>{''.join(passages)}")
    return "".join(parts)


def _case_html(rows: Sequence[CaseResult], k: int) -> str:
    main = rows[0]
    status = "pass" if main.passed else "fail"
    others = "".join(
        f" <span class='muted'>{_e(r.system)}</span> <span class={'pass' if r.passed else 'fail'}>"
        f"{'✔' if r.passed else '✘'}</span>"
        for r in rows[1:]
    )
    head = (
        f"<summary><span class={status}>{'✔' if main.passed else '✘'}</span> "
        f"<b>{_e(main.dataset)}/{_e(main.id)}</b> {_e(main.user_input)} "
        f"<span class=muted>{_e(' '.join(main.tags))}</span>{others}</summary>"
    )
    info = [f"<p><b>Question</b> ({_e(main.language)}): {_e(main.user_input)}</p>"]
    if main.history:
        turns = "".join(f"<li><b>{_e(t.role)}</b>: {_e(t.content)}</li>" for t in main.history)
        info.append(f"<p><b>History</b></p><ul>{turns}</ul>")
    if main.standalone_question and main.standalone_question != main.user_input:
        info.append(f"<p class=muted>Standalone question: {_e(main.standalone_question)}</p>")
    info.append(f"<p><b>Gold answer</b> ({'answerable' if main.answerable else 'unanswerable'}):</p>"
                f"<div class='box text'>{_e(main.reference)}</div>")
    if main.answerable:
        info.append(f"<p><b>Gold sources</b>: {_e(', '.join(main.reference_doc_ids))}</p>")
        quotes = "".join(f"<li class=quote>{_e(q)}</li>" for q in main.reference_contexts)
        info.append(f"<p><b>Evidence</b></p><ul>{quotes}</ul>")
        facts = "".join(f"<li>{_e(' / '.join(f))}</li>" for f in main.facts)
        info.append(f"<p><b>Facts</b></p><ul>{facts}</ul>")
    systems = "".join(f"<div class=sys>{_system_block(r, k)}</div>" for r in rows)
    return f"<details id='{_e(_anchor(main))}'>{head}{''.join(info)}{systems}</details>"


def render_html(run: EvalRun) -> str:
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>Eval run {_e(run.created)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Eval run {_e(run.created)}</h1><p class=muted>{_e(summary_line(run))}</p>",
        f"<h2>Headline (all datasets)</h2>{_html_table(*headline(run))}",
        "<h2>Thresholds</h2>" + "".join(f"<p>{_e(line.strip('*- '))}</p>" for line in gate_lines(run)),
        f"<h2>Per dataset</h2>{_html_table(*dataset_table(run))}",
    ]
    if run.comparison:
        c = run.comparison
        parts.append(f"<h2>Compared with {_e(c['previous'])}</h2>{_html_table(*comparison_table(run))}")
        for kind, title, when in FLIPS:
            items = "".join(
                f"<li><a href='#case-{_e(i['dataset'])}-{_e(i['id'])}'>{_e(i['dataset'])}/{_e(i['id'])}</a> "
                f"{_e(i['question'])} <span class=muted>{_e(when)}: {_e('; '.join(i['reasons']))}</span></li>"
                for i in c["flips"][kind]
            )
            parts.append(f"<h3>{title}</h3><ul>{items or '<li>none</li>'}</ul>")
    by_key: dict[tuple[str, str], list[CaseResult]] = {}
    for row in run.cases:
        by_key.setdefault(row.key, []).append(row)
    main_rows = [rows[0] for rows in by_key.values()]
    failed = [r for r in main_rows if not r.passed]
    links = "".join(
        f"<li><a href='#{_e(_anchor(r))}'>{_e(r.dataset)}/{_e(r.id)}</a> {_e(r.user_input)} "
        f"<span class=muted>{_e('; '.join(r.fail_reasons))}</span></li>"
        for r in failed
    )
    title = f"Failures: {run.systems[0]} ({len(failed)} of {len(main_rows)})"
    parts.append(f"<h2>{_e(title)}</h2><ul>{links or '<li>none</li>'}</ul>")
    parts.append(f"<h2>Cases</h2><p class=muted>{_e(PASS_RULE)} Click a case to open it.</p>")
    parts += [_case_html(rows, run.k) for rows in by_key.values()]
    defs = "".join(
        f"<li><b>{_e(label(k, run.k))}</b> <code>{_e(k)}</code>: {_e(v.meaning)}</li>" for k, v in METRICS.items()
    )
    parts.append(f"<h2>What the numbers mean</h2><ul>{defs}</ul></body></html>")
    return "\n".join(parts)


# ---- writing -------------------------------------------------------------------------


def write_reports(run: EvalRun, out_dir: Path) -> Mapping[str, Path]:
    """report.json, report.md and report.html in ``out_dir`` (created if needed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md", "html": out_dir / "report.html"}
    paths["json"].write_text(run.model_dump_json(indent=1), encoding="utf-8")
    paths["md"].write_text(render_markdown(run), encoding="utf-8")
    paths["html"].write_text(render_html(run), encoding="utf-8")
    return paths
