"""Timeline page: the dated events the articles report about a topic, oldest first, each cited.

The topic goes through the chat's chain (``resources.chain``, ``RagChain.timeline``:
the same retriever, and the model phrases each event when one answers) with the
sidebar's filters; events show the model's one-sentence summary, if any, and the
date as the article writes it (a date with no year says so), the quoted
sentence with its [n], outlet and publication date, chunk id and span, and a
mark when other articles date the same event differently. What it leaves out:
finding events (``rag.answer.timeline``); article text is rendered escaped.
"""

from __future__ import annotations

import streamlit as st

from rag.errors import RagError
from rag.answer.timeline import DEFAULT_K
from ui import news, render, resources

s = resources.settings()
idx = resources.index(s)
with st.sidebar:
    filters = news.filter_sidebar([d.outlet for d in resources.documents(s, idx) if d.outlet], key="timeline-filters")
    k = st.slider("Passages to search", 5, 100, value=DEFAULT_K, key="timeline-k")

st.title("Timeline · 时间线")
st.caption("Dated events the articles report, oldest first; dates as written. · 文章报道的带日期事件，由早到晚。")
topic = st.text_input("Topic · 主题", value="Musk and OpenAI", max_chars=500, key="timeline-topic")
if topic.strip():
    try:
        chain = resources.chain(s, idx)
        with st.spinner("Finding dated events…" if chain.extractive else "Finding and phrasing dated events…"):
            result = chain.timeline(topic.strip(), k, filters)
    except RagError as exc:
        st.error(f"Couldn't build the timeline: {render.md_escape(str(exc))}", icon=":material/error:")
    else:
        st.caption(f"{len(result.events)} events from {len(result.passages)} passages · {result.notice}")
        st.html(news.timeline_html(result))
