"""report.md: an eval run as Markdown, in the same layout as report.html and the app page.

Answerers side by side, thresholds, per split, per category, per dataset, the
change against the previous run with the flipped cases, each answerer's
failures, and every metric's one-line definition. What it leaves out:
computing numbers and the per-question drill-down (that is report.html's).
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.evaluation.comparison import comparison_of
from rag.evaluation.runner import EvalRun
from rag.evaluation.tables import (
    FLIPS,
    PASS_RULE,
    category_table,
    comparison_table,
    dataset_table,
    definitions,
    gate_lines,
    headline,
    split_table,
    summary_line,
)


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    out = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def render_markdown(run: EvalRun) -> str:
    out = [f"# Eval run {run.created}", "", summary_line(run), ""]
    out += [f"## Answerers side by side ({run.split} split)", "", md_table(*headline(run, defined=True)), ""]
    out += ["## Thresholds", "", *gate_lines(run), ""]
    if any(t.by_split for t in run.totals.values()):
        out += ["## Per split", "", md_table(*split_table(run, defined=True)), ""]
    out += ["## Per category (tag)", "", md_table(*category_table(run)), ""]
    out += ["## Per dataset", "", md_table(*dataset_table(run)), ""]
    out += [f"- `{d.name}`: {d.path} ({d.run} of {d.cases} cases, sha256 {d.sha256[:12]})" for d in run.datasets]
    out += [""]
    if (c := comparison_of(run)) is not None:
        out += [f"## Compared with {c.previous} ({c.previous_created})", ""]
        if c.datasets_changed:
            out += [f"Datasets changed since then: {', '.join(c.datasets_changed)}.", ""]
        for system in run.totals:
            header, rows = comparison_table(run, system)
            if rows:
                out += [f"**{system}**", "", md_table(header, rows), ""]
        for kind, title, when in FLIPS:
            items = c.flips.get(kind, [])
            out += [f"**{title}** ({len(items)}):", ""]
            lines = [f"- {i.dataset}/{i.id}: {i.question} — {when}: {'; '.join(i.reasons)}" for i in items]
            out += lines or ["- none"]
            out += [""]
    for system in run.systems:
        failed = [r for r in run.rows(system) if not r.passed]
        out += [f"## Failures: {system} ({len(failed)} of {len(run.rows(system))})", ""]
        out += [f"- {r.dataset}/{r.id}: {r.user_input} — {'; '.join(r.fail_reasons)}" for r in failed] or ["- none"]
        out += [""]
    out += ["## What the numbers mean", "", PASS_RULE, ""]
    out += [f"- **{name}** (`{key}`): {meaning}" for name, key, meaning in definitions(run)]
    return "\n".join(out) + "\n"
