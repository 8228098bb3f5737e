"""Long-lived app resources: settings, the index and the chain, once per server process.

What it does: reads the settings through ``rag.config.load_settings`` (the only
``ui`` module that does; a bad value, or an index that cannot be opened, stops
the page with one ``st.error`` line, never a traceback), opens the store and
builds the chain through ``rag.factory`` under ``st.cache_resource``
(building starts the embedded model loading in the background; ``answerer``
reports its state)
keyed by the settings (so tests with other settings get their own), ingests the
seeds with a progress bar when the index is empty, lists the indexed articles,
and reads when the index was last ingested (by the app or ``rag ingest``).

What it leaves out: rendering, and any retrieval or prompt logic.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import streamlit as st

from rag.answer.chain import RagChain
from rag.config import Settings, SettingsError, load_settings
from rag.errors import RagError
from rag.llm.answerer import AnswererStatus
from rag.factory import answerer_status, build_chain, ensure_ingested, open_store
from rag.redact import redact
from rag.store.index import DocInfo, Index
from rag.ingest.run import read_stamp
from ui.render import md_escape


def settings() -> Settings:
    """Settings from the environment and ``.env``, cheap enough to read on every rerun; a bad value
    stops the page with one line naming the variable and the fix."""
    try:
        return load_settings()
    except SettingsError as exc:
        st.error(f"{md_escape(redact(str(exc)))} and reload the page.", icon=":material/error:")
        st.stop()


def key(s: Settings) -> str:
    """What the cached resources depend on: a digest of every setting (keys never kept in clear)."""
    return hashlib.sha256(s.model_dump_json().encode()).hexdigest()


@st.cache_resource(show_spinner="Opening the article index…")
def _open_index(cache_key: str, _s: Settings) -> Index:
    return open_store(_s)


@st.cache_resource(show_spinner="Loading the answerer…")
def _build_chain(cache_key: str, _s: Settings, _index: Index) -> RagChain:
    return build_chain(_s, _index)


@st.cache_data(show_spinner=False)
def _documents(cache_key: str, count: int, _index: Index) -> list[DocInfo]:
    return _index.documents()


def index(s: Settings) -> Index:
    """The shared index; the first start on an empty store ingests the seeds, with progress. An index
    that cannot be opened stops the page with one line."""
    try:
        idx = _open_index(key(s), s)
    except RagError as exc:
        st.error(f"The article index cannot be opened: {md_escape(redact(str(exc)))}")
        st.stop()
    if not idx.count():
        bar = st.progress(0.0, text="Indexing the articles for the first time…")

        def progress(done: int, total: int, name: str) -> None:
            bar.progress(done / max(total, 1), text=f"Indexing {name} ({done}/{total})")

        report = ensure_ingested(idx, s, progress)
        bar.empty()
        if report is not None:
            after_ingest()
    return idx


def chain(s: Settings, idx: Index) -> RagChain:
    """The shared chain over ``idx``; raises ``RagError`` (e.g. a missing API key) uncached."""
    return _build_chain(key(s), s, idx)


def answerer(s: Settings) -> AnswererStatus:
    """The answerer's state now (the embedded model loads in the background); cheap, not cached."""
    return answerer_status(s)


def documents(s: Settings, idx: Index) -> list[DocInfo]:
    return _documents(key(s), idx.count(), idx)


def after_ingest() -> None:
    """Rebuild what depends on the index's contents (keyword index, article list) after an ingest."""
    _build_chain.clear()
    _documents.clear()


def last_ingest(s: Settings) -> dict[str, str] | None:
    """When this index was last ingested (the app or ``rag ingest``) and what changed; None if unrecorded."""
    return read_stamp(Path(s.persist_dir))
