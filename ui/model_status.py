"""The sidebar's answerer line: which model answers and its state (loading, ready, missing, failed).

``show(status)`` writes one caption from an ``AnswererStatus``
(``rag.factory.answerer_status``). While the embedded model loads, the caption
lives in a fragment that re-checks every two seconds, so it turns to "ready"
without the user doing anything. Missing model: the caption names the command
that fetches it. It leaves out building the chain and the model itself.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from rag.llm.answerer import FETCH_COMMAND, AnswererStatus

EXTRACTIVE = "offline extractive (quotes article sentences, no LLM)"
REFRESH_S = 2.0


def caption(status: AnswererStatus, available: bool = True) -> str:
    """The sidebar text for ``status`` (``available``: the chain could be built)."""
    if not available:
        return f"Answerer: `{status.answerer}` — not available (see the message on the Chat page)"
    if status.state == "missing":
        return f"Answerer: {EXTRACTIVE}. Local model missing: run `{FETCH_COMMAND}` for generated answers."
    if status.state == "extractive":
        extra = f" {status.message}" if status.message else ""
        return f"Answerer: `extractive` — {EXTRACTIVE}.{extra}"
    if status.state == "loading":
        return f"Answerer: {status.answerer} — loading… (the first answer waits for it)"
    if status.state == "failed":
        return f"Answerer: {status.answerer} — failed to load: {status.message}"
    local = " (local llama.cpp, nothing leaves this machine)" if status.answerer.startswith("embedded") else ""
    return f"Answerer: {status.answerer} — ready{local}"


def show(status: AnswererStatus, available: bool, current: Callable[[], AnswererStatus]) -> None:
    """The caption; while loading, a fragment that refreshes it from ``current()``."""
    if status.state != "loading" or not available:
        st.caption(caption(status, available))
        return

    @st.fragment(run_every=REFRESH_S)
    def live() -> None:
        st.caption(caption(current(), available))

    live()
