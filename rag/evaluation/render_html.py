"""report.html: an eval run as one self-contained page (inline CSS, no scripts or external assets).

Same layout as report.md and the app page — answerers side by side, per
split, per category, per dataset, change against the previous run — then a
drill-down per question (question, history, gold answer and evidence, each
answerer's answer, missed facts, citations with quotes, passages). Every
piece of text is HTML-escaped. What it leaves out: computing numbers.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from rag.evaluation.comparison import comparison_of
from rag.evaluation.metric_info import METRICS
from rag.evaluation.runner import CaseResult, EvalRun
from rag.evaluation.tables import (
    CHART_METRICS,
    FLIPS,
    PASS_RULE,
    category_table,
    comparison_table,
    dataset_table,
    definitions,
    fmt,
    gate_lines,
    headline,
    label,
    split_table,
    summary_line,
)

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
.quote{background:#fff6d5}
.chart td{min-width:420px}.bar{display:flex;align-items:center;gap:.4rem;margin:1px 0}
.who{width:11rem;font-size:12px;color:#444}.track{flex:1;background:#eee;height:10px;border-radius:2px}
.fill{display:block;height:10px;background:#3b6fb6;border-radius:2px}.val{width:3.5rem;text-align:right;font-size:12px}
.axis{display:flex;justify-content:space-between;font-size:12px;color:#666}code{font-size:12px}.sys{border-top:2px solid #ddd;margin-top:.8rem}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    numeric = [0 < i and h != "definition" for i, h in enumerate(header)]
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if numeric[i] else ''}>{_e(c)}</td>" for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _bar_chart(run: EvalRun) -> str:
    """Horizontal bars (pure CSS): one group per metric, one bar per answerer, on a labelled 0–1 axis."""
    rows = []
    for key in CHART_METRICS:
        bars = []
        for system, totals in run.totals.items():
            value = totals.overall.metrics.get(key)
            if value is not None:
                bars.append(f"<div class=bar><span class=who>{_e(system)}</span><span class=track>"
                            f"<span class=fill style='width:{max(0.0, min(1.0, value)) * 100:.1f}%'></span></span>"
                            f"<span class=val>{_e(fmt(key, value))}</span></div>")
        if bars:
            rows.append(f"<tr><th>{_e(label(key, run.k))}</th><td>{''.join(bars)}</td></tr>")
    axis = "<tr><th>metric ↓</th><td class=axis><span>0</span><span>score (0–1) →</span><span>1</span></td></tr>"
    chart = f"<h3>Scores per answerer (0–1)</h3><table class=chart>{''.join(rows)}{axis}</table>"
    return chart if rows else ""


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
    if row.filters:
        flags.append(f"filters: {row.filters} (applied)")
    if row.split:
        flags.append(f"split: {row.split}")
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
        f"<h2>Answerers side by side ({_e(run.split)} split)</h2>{_html_table(*headline(run, defined=True))}",
        _bar_chart(run),
        "<h2>Thresholds</h2>" + "".join(f"<p>{_e(line.strip('*- '))}</p>" for line in gate_lines(run)),
    ]
    if any(t.by_split for t in run.totals.values()):
        parts.append(f"<h2>Per split</h2>{_html_table(*split_table(run, defined=True))}")
    parts.append(f"<h2>Per category (tag)</h2>{_html_table(*category_table(run))}")
    parts.append(f"<h2>Per dataset</h2>{_html_table(*dataset_table(run))}")
    if (c := comparison_of(run)) is not None:
        parts.append(f"<h2>Compared with {_e(c.previous)} ({_e(c.previous_created)})</h2>")
        for system in run.totals:
            header, rows = comparison_table(run, system)
            if rows:
                parts.append(f"<h3>{_e(system)}</h3>{_html_table(header, rows)}")
        for kind, title, when in FLIPS:
            items = "".join(
                f"<li><a href='#case-{_e(i.dataset)}-{_e(i.id)}'>{_e(i.dataset)}/{_e(i.id)}</a> "
                f"{_e(i.question)} <span class=muted>{_e(when)}: {_e('; '.join(i.reasons))}</span></li>"
                for i in c.flips.get(kind, [])
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
        f"<li><b>{_e(name)}</b> <code>{_e(key)}</code>: {_e(meaning)}</li>" for name, key, meaning in definitions(run)
    )
    parts.append(f"<h2>What the numbers mean</h2><ul>{defs}</ul></body></html>")
    return "\n".join(parts)
