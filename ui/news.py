"""The app's news parts: the "Sources disagree" box, the sidebar filters, a timeline's rows.

Article text is untrusted: every piece reaches the page through
``html.escape``. ``filter_sidebar`` turns the sidebar's outlet, date-range and
language widgets into ``rag.retrieval.filters.Filters`` for the chain; the choices of
outlet come from the indexed articles. What it leaves out: detecting
conflicts, filtering and building timelines (all in ``rag``).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

import streamlit as st

from rag.dates import source_label
from rag.retrieval.filters import Filters, make_filters
from rag.models import Answer, Conflict
from rag.answer.timeline import Timeline, date_text

TEXT = {
    "en": {"disagree": "Sources disagree", "differs": "dated differently elsewhere:", "none": "No dated events."},
    "zh": {"disagree": "各来源说法不一", "differs": "其他文章所述日期不同：", "none": "没有带日期的事件。"},
}
_BOX = "border:1px solid rgba(230,140,0,.55);border-radius:.5rem;padding:.55rem .8rem;margin:.4rem 0;"


def conflict_html(conflict: Conflict, lang: str) -> str:
    """One disagreement: its topic, then each side in its own column (value, who says it, [n], source, quote)."""
    cols = []
    for side in conflict.sides:
        cols.append(
            '<div style="flex:1;min-width:12rem;padding:.2rem .5rem;border-left:3px solid rgba(230,140,0,.6)">'
            f'<div style="font-size:1.1em;font-weight:600">{html.escape(side.value)} [{side.n}]</div>'
            f"<div>{html.escape(side.attribution)}</div>"
            f'<div style="font-size:.8em;opacity:.75">{html.escape(source_label(side, lang))}</div>'
            f'<div style="font-size:.85em;margin-top:.3rem">“{html.escape(side.quote)}”</div></div>'
        )
    return (
        f'<div class="sources-disagree" style="{_BOX}">'
        f'<div style="font-weight:600;margin-bottom:.3rem">⚠ {TEXT[lang]["disagree"]}: '
        f"{html.escape(conflict.topic)}</div>"
        f'<div style="display:flex;gap:.6rem;flex-wrap:wrap">{"".join(cols)}</div></div>'
    )


def conflicts_box(answer: Answer) -> None:
    """The "Sources disagree" boxes of an answer (nothing when its sources agree)."""
    for conflict in answer.conflicts:
        st.html(conflict_html(conflict, answer.language))


def filter_sidebar(outlets: Sequence[str], key: str = "filters") -> Filters | None:
    """Outlet, date-range and language widgets (in the current container) → ``Filters`` or None."""
    with st.expander("Filters · 筛选", expanded=False):
        chosen = st.multiselect("Outlet · 来源", sorted(set(outlets)), key=f"{key}-outlet")
        use_dates = st.checkbox("Published between · 发布日期范围", key=f"{key}-use-dates")
        since = until = None
        if use_dates:
            picked = st.date_input("Dates", value=(dt.date(2023, 1, 1), dt.date.today()), key=f"{key}-dates",
                                   label_visibility="collapsed")
            if isinstance(picked, tuple) and len(picked) == 2:
                since, until = picked
            st.caption("Articles with no date never match a date range.")
        lang = st.selectbox("Language · 语言", ["any", "en", "zh"], key=f"{key}-lang")
    return make_filters(chosen, since, until, None if lang == "any" else lang)


def timeline_html(result: Timeline) -> str:
    """The timeline as rows: date as written | event sentence [n] · source · chunk id and span."""
    lang = result.language
    if not result.events:
        return f"<p>{TEXT[lang]['none']}</p>"
    rows = []
    for e in result.events:
        c = e.citation
        mark = ""
        summary = f'<div style="font-weight:500">{html.escape(e.summary)} [{c.n}]</div>' if e.summary else ""
        quote = f"“{c.quote}”" if e.summary else c.quote  # under a summary, the sentence it restates
        if e.dated_differently:
            mark = (f'<div style="color:#b36b00;font-size:.85em">⚠ {TEXT[lang]["differs"]} '
                    f"{html.escape('; '.join(e.other_dates))}</div>")
        rows.append(
            '<div class="timeline-event" style="display:flex;gap:.8rem;margin:.35rem 0;padding:.3rem 0;'
            'border-bottom:1px solid rgba(128,128,128,.2)">'
            f'<div style="min-width:9rem;font-weight:600">{html.escape(date_text(e, lang))}</div>'
            f'<div style="flex:1">{summary}<div>{html.escape(quote)} [{c.n}]</div>'
            f'<div style="font-size:.8em;opacity:.75">{html.escape(e.source)} · {html.escape(c.title)} · '
            f"{html.escape(c.chunk_id)} {c.span[0]}–{c.span[1]}</div>{mark}</div></div>"
        )
    return "".join(rows)
