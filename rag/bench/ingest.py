"""Ingest timed by phase: cleaning+chunking, embedding, store reads and writes; then a re-ingest.

The real ``Index.ingest`` runs unchanged. Phases are timed from outside: the
embedder is wrapped (every ``embed_documents`` call is timed and its texts
counted) and the Chroma client is wrapped so every collection it hands out is
too (``upsert``/``delete``/``modify`` and creating or dropping collections are
store writes; ``get``/``count``/``query`` and listing are store reads). Cleaning
and chunking are timed inside the same ingest by swapping ``rag.ingest.run``'s own
``load_document`` and ``chunk_document`` for timed wrappers while it runs (the
bench ingests from one thread). Whatever is left of the wall time (hashing,
metadata, locking) is reported as ``other``.

What it leaves out: any cache of vectors between runs or scales: every
ingest here starts from an empty store and embeds everything it is given.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from rag.bench.measure import Stopwatch
from rag.ingest import run as ingest_module
from rag.ingest.run import Progress, run_ingest
from rag.store.index import Index, make_client
from rag.tokens import count_tokens

_WRITES = {"upsert", "add", "update", "delete", "modify"}
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


class TimedClient:
    """A Chroma client whose collections come back wrapped in ``TimedCollection``."""

    def __init__(self, inner: Any, watch: Stopwatch) -> None:
        self._inner = inner
        self._watch = watch

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr
        wraps = name in ("get_collection", "get_or_create_collection", "create_collection")
        phase = "store_write" if name in ("delete_collection", "create_collection") else "store_read"

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self._watch.time(phase):
                out = attr(*args, **kwargs)
            return TimedCollection(out, self._watch) if wraps else out

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


@contextmanager
def timed_cleaning(watch: Stopwatch) -> Iterator[list[int]]:
    """Time ``rag.ingest.run``'s loading+cleaning and chunking as ``clean_chunk``; yield [chunks, sentences] made."""
    made = [0, 0]
    load, chunk = ingest_module.load_document, ingest_module.chunk_document

    def timed_load(*args: Any, **kwargs: Any) -> Any:
        with watch.time("clean_chunk"):
            return load(*args, **kwargs)

    def timed_chunk(*args: Any, **kwargs: Any) -> Any:
        with watch.time("clean_chunk"):
            chunks = chunk(*args, **kwargs)
        made[0] += len(chunks)
        made[1] += sum(len(c.sentences) for c in chunks)
        return chunks

    ingest_module.load_document, ingest_module.chunk_document = timed_load, timed_chunk
    try:
        yield made
    finally:
        ingest_module.load_document, ingest_module.chunk_document = load, chunk


def _instrumented(
    persist_dir: Path, embeddings: Embeddings, model: str, options: dict[str, Any]
) -> tuple[Index, Stopwatch, TimedEmbeddings]:
    watch = Stopwatch()
    timed = TimedEmbeddings(embeddings, watch)
    index = Index(TimedClient(make_client(persist_dir), watch), timed, model, lock_dir=persist_dir, **options)
    return index, watch, timed


def timed_ingest(
    persist_dir: Path,
    embeddings: Embeddings,
    model: str,
    paths: list[Path],
    progress: Progress | None = None,
    **options: Any,
) -> tuple[IngestFigures, ReingestFigures]:
    """Ingest ``paths`` into a new store at ``persist_dir`` timed by phase, then ingest them again.

    ``options`` go to ``Index`` (chunk_tokens, overlap_tokens). The instrumented
    index is closed afterwards: open a plain one on the same directory to query.
    """
    index, watch, timed = _instrumented(persist_dir, embeddings, model, options)
    try:
        return _ingest_twice(index, watch, timed, paths, progress)
    finally:
        index.close()


def _ingest_twice(
    index: Index, watch: Stopwatch, timed: TimedEmbeddings, paths: list[Path], progress: Progress | None
) -> tuple[IngestFigures, ReingestFigures]:
    count_tokens("warm up the tokenizer")  # its one-off load is not a per-document cost
    watch.seconds.clear()  # opening the store is not part of the ingest
    t0 = time.perf_counter()
    with timed_cleaning(watch) as made:
        report = run_ingest(index, paths, progress)
    wall = time.perf_counter() - t0
    n_chunks, n_sents = made
    embed = watch.get("embed")
    phases = {
        "clean_chunk": watch.get("clean_chunk"),
        "embed": embed,
        "store_write": watch.get("store_write"),
        "store_read": watch.get("store_read"),
    }
    phases["other"] = wall - sum(phases.values())
    docs = len(report.added) + len(report.updated)
    first = IngestFigures(
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
    timed.documents = 0
    t0 = time.perf_counter()
    again = run_ingest(index, paths)
    wall = time.perf_counter() - t0
    second = ReingestFigures(
        wall_s=round(wall, 3),
        unchanged=len(again.unchanged),
        changed=len(again.added) + len(again.updated) + len(again.removed),
        embedded_chunks=again.embedded_chunks,
        embedded_sentences=again.embedded_sentences,
        embedded_texts=timed.documents,
    )
    return first, second
