"""Ingest timed by phase: cleaning+chunking, embedding, store reads and writes; then a re-ingest.

The real ``Index.ingest`` runs unchanged. Phases are timed from outside: the
embedder is wrapped (every ``embed_documents`` call is timed and its texts
counted) and the two Chroma collections are wrapped (``upsert``/``delete`` are
store writes, ``get``/``count``/``query`` store reads). Cleaning+chunking
happens inside the ingest where it cannot be wrapped, so it is timed by running
``load_document`` + ``chunk_document`` on the same files just before; whatever
is left of the wall time (hashing, metadata, locking) is reported as ``other``.

What it leaves out: any cache of vectors between runs or scales: every
ingest here starts from an empty store and embeds everything it is given.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from rag.bench.measure import Stopwatch
from rag.chunking import chunk_document
from rag.documents import load_document
from rag.index import Index, discover
from rag.tokens import count_tokens

Progress = Callable[[int, int, str], None]
_WRITES = {"upsert", "add", "update", "delete"}
_READS = {"get", "count", "query", "peek"}


class TimedEmbeddings(Embeddings):
    """Forwards to a real embedder, timing calls and counting texts."""

    def __init__(self, inner: Embeddings, watch: Stopwatch | None = None) -> None:
        self.inner = inner
        self.watch = watch or Stopwatch()
        self.documents = 0
        self.queries = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        with self.watch.time("embed"):
            out = self.inner.embed_documents(texts)
        self.documents += len(texts)
        return out

    def embed_query(self, text: str) -> list[float]:
        with self.watch.time("embed_query"):
            out = self.inner.embed_query(text)
        self.queries += 1
        return out


class TimedCollection:
    """A Chroma collection whose reads and writes are timed; everything else forwards."""

    def __init__(self, inner: Any, watch: Stopwatch) -> None:
        self._inner = inner
        self._watch = watch

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        phase = "store_write" if name in _WRITES else "store_read" if name in _READS else None
        if phase is None or not callable(attr):
            return attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self._watch.time(phase):
                return attr(*args, **kwargs)

        return timed


@dataclass
class IngestFigures:
    documents: int
    chunks: int
    sentences: int
    wall_s: float
    docs_per_s: float
    chunks_per_s: float
    phases_s: dict[str, float]
    embedded_chunks: int
    embedded_sentences: int
    embedded_texts: int  # counted at the embedder: must equal chunks + sentences embedded
    embed_texts_per_s: float | None
    errors: list[str] = field(default_factory=list)


@dataclass
class ReingestFigures:
    wall_s: float
    unchanged: int
    changed: int
    embedded_chunks: int
    embedded_sentences: int
    embedded_texts: int  # counted at the embedder: 0 when nothing changed


def clean_and_chunk(paths: list[Path], chunk_tokens: int, overlap_tokens: int) -> tuple[float, int, int]:
    """Seconds to load+clean and chunk every file (as the ingest does), with chunk and sentence counts."""
    files, _, _ = discover(paths)
    count_tokens("warm up the tokenizer")  # its one-off load is not a per-document cost
    chunks = sentences = 0
    t0 = time.perf_counter()
    for f in files:
        for c in chunk_document(load_document(f), chunk_tokens, overlap_tokens):
            chunks += 1
            sentences += len(c.sentences)
    return time.perf_counter() - t0, chunks, sentences


def _instrument(index: Index) -> tuple[Stopwatch, TimedEmbeddings, tuple[Any, Any, Any]]:
    watch = Stopwatch()
    saved = (index.embeddings, index.chunks, index.sentences)
    timed = TimedEmbeddings(index.embeddings, watch)
    index.embeddings = timed
    index.chunks = TimedCollection(index.chunks, watch)
    index.sentences = TimedCollection(index.sentences, watch)
    return watch, timed, saved


def _restore(index: Index, saved: tuple[Any, Any, Any]) -> None:
    index.embeddings, index.chunks, index.sentences = saved


def timed_ingest(index: Index, paths: list[Path], progress: Progress | None = None) -> IngestFigures:
    """Ingest ``paths`` into ``index`` (expected empty) and time each phase."""
    clean_s, n_chunks, n_sents = clean_and_chunk(paths, index.chunk_tokens, index.overlap_tokens)
    watch, timed, saved = _instrument(index)
    t0 = time.perf_counter()
    try:
        report = index.ingest(paths, progress)
    finally:
        wall = time.perf_counter() - t0
        _restore(index, saved)
    embed = watch.get("embed")
    phases = {
        "clean_chunk": clean_s,
        "embed": embed,
        "store_write": watch.get("store_write"),
        "store_read": watch.get("store_read"),
    }
    phases["other"] = wall - sum(phases.values())
    docs = len(report.added) + len(report.updated)
    return IngestFigures(
        documents=docs,
        chunks=n_chunks,
        sentences=n_sents,
        wall_s=round(wall, 3),
        docs_per_s=round(docs / wall, 3) if wall else 0.0,
        chunks_per_s=round(n_chunks / wall, 3) if wall else 0.0,
        phases_s={k: round(v, 3) for k, v in phases.items()},
        embedded_chunks=report.embedded_chunks,
        embedded_sentences=report.embedded_sentences,
        embedded_texts=timed.documents,
        embed_texts_per_s=round(timed.documents / embed, 2) if embed else None,
        errors=report.errors,
    )


def timed_reingest(index: Index, paths: list[Path]) -> ReingestFigures:
    """Ingest the same, unchanged ``paths`` again: time it and count what gets embedded."""
    _, timed, saved = _instrument(index)
    t0 = time.perf_counter()
    try:
        report = index.ingest(paths)
    finally:
        wall = time.perf_counter() - t0
        _restore(index, saved)
    return ReingestFigures(
        wall_s=round(wall, 3),
        unchanged=len(report.unchanged),
        changed=len(report.added) + len(report.updated) + len(report.removed),
        embedded_chunks=report.embedded_chunks,
        embedded_sentences=report.embedded_sentences,
        embedded_texts=timed.documents,
    )
