"""Eval results page: the latest ``rag eval`` run, laid out like report.html.

Headline tiles for the default answerer (with the change since the previous
run), the answerers side by side with each metric's one-line definition, the
change against the previous run, per-split and per-category tables, two
charts with labelled axes, the per-question table (filterable to failures)
and every metric's definition. Reads the run through ``ui.evals`` (the typed
``EvalRun`` and its typed comparison), never a raw report key. With no run
yet it says how to make one. What it leaves out: running evals and computing
metrics.
"""

from __future__ import annotations

import streamlit as st

from rag.evaluation import tables
from ui import evals, render, resources


def show() -> None:
    s = resources.settings()
    st.title("Eval results")
    loaded, problems = evals.latest(evals.runs_dir(s))
    for problem in problems:
        st.warning(f"Skipped an unreadable report: {render.md_escape(problem)}")
    if loaded is None:
        st.info("No eval run yet — run `rag eval` to make one.", icon=":material/info:")
        return
    run = loaded.run
    st.caption(f"Report: `{loaded.path}` · run {render.md_escape(run.created)}")
    st.caption(render.md_escape(tables.summary_line(run).replace("`", "")))

    st.subheader("Headline: default answerer")
    tiles = evals.tiles(run)
    for start in range(0, len(tiles), 4):
        for col, tile in zip(st.columns(4), tiles[start : start + 4]):
            col.metric(tile.label, tile.value, tile.delta, help=tile.help,
                       delta_color="normal" if tile.higher_is_better else "inverse")
    if loaded.compared_with:
        st.caption(f"Changes are against the run of {render.md_escape(loaded.compared_with)}.")

    st.subheader("Answerers side by side")
    st.dataframe(evals.side_by_side(run), width="stretch")
    chart = evals.chart_data(run)
    if not chart.empty:
        st.bar_chart(chart, x="metric", y="value", color="answerer", stack=False,
                     x_label="metric", y_label="score (0–1)")

    st.subheader("Change since the previous run")
    changes = evals.changes(run)
    if not changes:
        st.info("No previous run of this split to compare with.")
    for system, frame in changes.items():
        st.markdown(f"**{render.md_escape(system)}**")
        st.dataframe(frame, width="stretch")

    split = evals.per_split(run)
    if len(split.columns) > 2:
        st.subheader("Per split (tune on dev, report test)")
        st.dataframe(split, width="stretch")

    st.subheader("Per category")
    st.dataframe(evals.per_category(run), width="stretch")
    cat = evals.category_chart_data(run)
    if not cat.empty:
        st.bar_chart(cat, x="category", y="pass rate", color="answerer", stack=False,
                     x_label="category (tag)", y_label="pass rate (0–1)")

    st.subheader("Per question")
    table = evals.questions(run)
    st.caption(f"{int((~table['passed']).sum())} of {len(table)} answers failed. {tables.PASS_RULE}")
    if st.toggle("Show only failures", key="only_failures"):
        table = table[~table["passed"]]
    st.dataframe(table, width="stretch", hide_index=True)

    with st.expander("What the numbers mean"):
        st.markdown("\n".join(f"- **{render.md_escape(name)}** (`{key}`): {render.md_escape(text)}"
                              for name, key, text in tables.definitions(run)))


show()
