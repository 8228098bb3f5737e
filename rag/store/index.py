"""The vector store: Chroma collections of chunks and sentences, read one generation at a time.

Opens a local ``PersistentClient`` or, when a host is given, a Chroma server
through ``HttpClient`` (telemetry off either way; vectors are always passed in,
so Chroma's own default embedding function is never loaded). Each embedder gets
its own collections, so vectors of different models never mix.

This is the read side; writing is the ingest's (``rag.ingest.run``, which
imports this module, never the other way). The index is replaced whole: an
ingest writes a new generation and commits it with one write
(``rag.store.generations``), so readers see committed generations only and a
killed ingest leaves the previous index as it was. Each read entry point (``count``, ``records``, ``documents``,
``language_means``) moves the calling thread to the newest committed generation,
and the thread's later reads (``chunks``, ``sentences``, ``sentences_of``) stay
on it, so one question never mixes two versions. The generation each thread
is on is leased (``rag.store.readers``): an ingest never deletes a generation a live
process still reads, and the previous one is kept until the next commit.
Retrieval, the keyword index and writing live elsewhere.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from rag.errors import ConfigError
from rag.store import language_means
from rag.store.embeddings import collection_slug
from rag.store.generations import Generations, View
from rag.store.pages import Row, rows
from rag.store.readers import Leases

__all__ = ["ChromaServer", "DocInfo", "Index", "make_client", "open_index"]


@dataclass(frozen=True)
class ChromaServer:
    """Where a Chroma server listens (``CHROMA_HOST`` and friends)."""

    host: str
    port: int = 8000
    ssl: bool = False
    token: str | None = None


@dataclass
class DocInfo:
    doc_id: str
    title: str
    source: str
    language: str
    chunks: int
    outlet: str | None = None
    published: str | None = None
    url: str | None = None


def make_client(persist_dir: Path, server: ChromaServer | None = None) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if server:
        headers = {"Authorization": f"Bearer {server.token}"} if server.token else None
        try:
            return chromadb.HttpClient(
                host=server.host, port=server.port, ssl=server.ssl, headers=headers, settings=settings
            )
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError here
            raise ConfigError(
                f"cannot reach the Chroma server at {server.host}:{server.port} ({exc}); "
                "start it or unset CHROMA_HOST to use the local store"
            ) from exc
    if persist_dir.exists() and not persist_dir.is_dir():
        raise ConfigError(f"RAG_PERSIST_DIR {persist_dir} is a file, not a directory; point it at a directory")
    try:
        persist_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"RAG_PERSIST_DIR {persist_dir} cannot be created ({exc.strerror or exc}); "
                          "point it at a writable directory") from None
    return chromadb.PersistentClient(path=str(persist_dir), settings=settings)


class Index:
    """The chunk and sentence collections of one embedder; safe to share across threads.

    ``chunk_tokens``, ``overlap_tokens`` and ``cleaned`` say how an ingest cuts and
    cleans what it writes here (``cleaned`` also names the collections); the index
    only carries them. ``gens`` is the ingest's way in to write a generation.
    """

    def __init__(
        self,
        client: Any,
        embeddings: Embeddings,
        embedding_model: str,
        *,
        lock_dir: Path,
        chunk_tokens: int = 200,
        overlap_tokens: int = 40,
        cleaned: bool = True,
    ) -> None:
        self.client = client
        self.embeddings = embeddings
        self.embedding_model = embedding_model
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        self.lock_dir = lock_dir
        self.cleaned = cleaned
        name = f"{'rag' if cleaned else 'naive'}-{collection_slug(embedding_model)}"
        self.gens = Generations(client, name, {"hnsw:space": "cosine", "embedding_model": embedding_model})
        self._local = threading.local()
        self.leases = Leases(lock_dir)
        self._view = self.gens.open(self.gens.head()[0])

    # ---- which generation --------------------------------------------------------------

    def refresh(self) -> View:
        """Move this thread (and threads not yet pinned) to the newest committed generation."""
        gen = self.gens.head()[0]
        view = self._view
        if gen != view.generation:
            view = self._view = self.gens.open(gen)
        self._local.view = view
        self.leases.hold(view.generation)
        return view

    def use(self, view: View) -> None:
        """Read ``view`` from now on (called by ingest after its commit)."""
        self._view = self._local.view = view
        self.leases.hold(view.generation)

    def _current(self) -> View:
        return getattr(self._local, "view", None) or self._view

    @property
    def chunks(self) -> Any:
        return self._current().chunks

    @property
    def sentences(self) -> Any:
        return self._current().sentences

    @property
    def generation(self) -> int:
        return self._current().generation

    # ---- reading -----------------------------------------------------------------------

    def count(self) -> int:
        return self.refresh().chunks.count()

    def close(self) -> None:
        """Release the client (its SQLite connections once no other client shares the store's path) and the lease."""
        self.leases.release()
        self.client.close()

    def records(self, include: list[str]) -> Iterator[Row]:
        """Every chunk as (id, metadata, extra fields named in ``include``), paged (``rag.store.pages``)."""
        return rows(self.refresh().chunks, include)

    def documents(self) -> list[DocInfo]:
        """One row per indexed article, from the chunk metadata."""
        docs: dict[str, DocInfo] = {}
        for _, meta, _ in self.records([]):
            info = docs.get(meta["doc_id"])
            if info is None:
                docs[meta["doc_id"]] = DocInfo(
                    doc_id=meta["doc_id"],
                    title=meta.get("title", meta["doc_id"]),
                    source=meta.get("source", ""),
                    language=meta.get("doc_language", meta.get("language", "")),
                    chunks=1,
                    outlet=meta.get("outlet"),
                    published=meta.get("published"),
                    url=meta.get("url"),
                )
            else:
                info.chunks += 1
        return sorted(docs.values(), key=lambda d: d.doc_id)

    def language_means(self) -> dict[str, Any]:
        """Mean sentence vector per language ('en'/'zh'): as the commit stored it, else computed."""
        view = self.refresh()
        stored = language_means.decode(self.gens.head_metadata(), view.generation)
        return stored if stored is not None else language_means.compute(view.sentences)

    def sentences_of(self, chunk_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Sentences (text, span in chunk, embedding) of each chunk, in order."""
        if not chunk_ids:
            return {}
        got = self.sentences.get(
            where={"chunk_id": {"$in": chunk_ids}}, include=["documents", "metadatas", "embeddings"]
        )
        out: dict[str, list[dict[str, Any]]] = {cid: [] for cid in chunk_ids}
        for text, meta, vec in zip(got["documents"], got["metadatas"], got["embeddings"], strict=True):
            out[meta["chunk_id"]].append(
                {"text": text, "start": meta["start"], "end": meta["end"], "embedding": vec}
            )
        for sents in out.values():
            sents.sort(key=lambda s: s["start"])
        return out


def open_index(
    persist_dir: Path,
    embeddings: Embeddings,
    embedding_model: str,
    server: ChromaServer | None = None,
    **options: Any,
) -> Index:
    return Index(make_client(persist_dir, server), embeddings, embedding_model, lock_dir=persist_dir, **options)
