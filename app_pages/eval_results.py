"""Eval results page: the latest ``evals/runs/*/report.json`` as headline metrics, charts and a table.

Reads the report through ``ui.evals`` (defensively: the harness owns the
format), shows each total as a metric, one bar chart per per-question metric,
and a per-question table that can be filtered to the failures. With no run yet
it says how to make one. What it leaves out: running evals and computing metrics.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import evals, render, resources


def show() -> None:
    s = resources.settings()
    st.title("Eval results")
    report, problems = evals.latest(evals.runs_dir(s))
    for problem in problems:
        st.warning(f"Skipped an unreadable report: {render.md_escape(problem)}")
    if report is None:
        st.info("No eval run yet — run `rag eval` to make one.", icon=":material/info:")
        return

    st.caption(f"Report: `{report.path}`")
    for k in ("started", "created", "timestamp", "time", "chat_model", "model", "embedding_model", "dataset"):
        if k in report.meta:
            st.caption(f"{k}: {render.md_escape(str(report.meta[k]))}")

    if report.totals:
        st.subheader("Headline metrics")
        items = list(report.totals.items())
        for start in range(0, len(items), 4):
            cols = st.columns(4)
            for col, (name, value) in zip(cols, items[start : start + 4]):
                col.metric(name, f"{value:.3f}" if abs(value) < 1000 and value != int(value) else f"{value:g}")

    rows = report.rows
    metrics = evals.row_metrics(rows)
    labels = [evals.case_label(r, i) for i, r in enumerate(rows)]
    if metrics:
        st.subheader("Per metric")
        for tab, name in zip(st.tabs(metrics), metrics):
            values = [evals.numeric(r).get(name) for r in rows]
            tab.bar_chart(pd.DataFrame({name: values}, index=pd.Index(labels, name="case")), y=name)

    st.subheader("Per question")
    if not rows:
        st.info("The report has no per-question rows.")
        return
    failures = [evals.is_failure(r) for r in rows]
    st.caption(f"{sum(failures)} of {len(rows)} questions marked as failed by the report.")
    only_failures = st.toggle("Show only failures", key="only_failures")
    table = pd.DataFrame(rows, index=pd.Index(labels, name="case"))
    table.insert(0, "marked failed", failures)
    if only_failures:
        table = table[table["marked failed"]]
    st.dataframe(table, width="stretch")


show()
