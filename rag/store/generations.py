"""Generations: how an index is replaced whole, so readers never see half an ingest.

A generation is a pair of Chroma collections, ``<base>-gNNNNNN-chunks`` and
``<base>-gNNNNNN-sentences``. The ``<base>-head`` collection's metadata names the
committed generation and the one before it; changing it is a single write, the
commit. Generation 0 is the pre-generation layout (``<name>-chunks`` /
``<name>-sentences``), so stores built before generations still open and are
carried into generation 1 by their next ingest. A new generation is numbered
one above the head; a leftover of that number from a killed ingest is dropped
first. Generations other than the committed one, the one before it and those
the caller says readers hold are deleted. Nothing here knows about files, chunking or embedding.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from typing import Any

from rag.store.pages import PAGE, pages

# Generations below the newest kept one that clean-up looks at: wide enough to catch one a
# reader leased through many commits and has since let go.
_WINDOW = 64


@dataclass(frozen=True)
class View:
    """The two collections of one generation."""

    generation: int
    chunks: Any
    sentences: Any


def upsert(collection: Any, ids: list[str], vectors: Any, docs: list[str], metas: list[dict]) -> None:
    """Write rows in batches of ``PAGE`` (Chroma caps the rows of one call)."""
    for i in range(0, len(ids), PAGE):
        collection.upsert(
            ids=ids[i : i + PAGE],
            embeddings=vectors[i : i + PAGE],
            documents=docs[i : i + PAGE],
            metadatas=metas[i : i + PAGE],
        )


class Generations:
    """Names, the head pointer, creation, commit and clean-up of one index's generations."""

    def __init__(self, client: Any, name: str, metadata: dict[str, Any]) -> None:
        self.client = client
        self.name = name
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        self.base = name if len(name) <= 40 else f"{name[:31]}-{digest}"  # Chroma names stop at 63
        self.metadata = metadata

    def names(self, gen: int) -> tuple[str, str]:
        stem = self.name if gen == 0 else f"{self.base}-g{gen:06d}"
        return f"{stem}-chunks", f"{stem}-sentences"

    def head_metadata(self) -> dict[str, Any]:
        """The head's metadata: the committed generation, the previous one, and what the commit added."""
        from chromadb.errors import NotFoundError

        try:
            return dict(self.client.get_collection(f"{self.base}-head", embedding_function=None).metadata or {})
        except NotFoundError:
            return {}

    def head(self) -> tuple[int, int | None]:
        """(committed generation, the previous one) — (0, None) before the first commit."""
        meta = self.head_metadata()
        prev = meta.get("previous")
        return int(meta.get("generation", 0)), None if prev is None else int(prev)

    def open(self, gen: int, create: bool = False) -> View:
        names = self.names(gen)
        if gen == 0 or create:
            cols = [self.client.get_or_create_collection(n, metadata=self.metadata, embedding_function=None)
                    for n in names]
        else:
            cols = [self.client.get_collection(n, embedding_function=None) for n in names]
        return View(gen, cols[0], cols[1])

    def _drop(self, gen: int) -> None:
        from chromadb.errors import NotFoundError

        for name in self.names(gen):
            try:
                self.client.delete_collection(name)
            except NotFoundError:
                pass

    def collect_garbage(self, keep: set[int]) -> None:
        """Drop generations near the head that are not in ``keep`` (half-written, or two commits old).

        Probes names rather than listing collections: listing makes Chroma build its
        default embedding function for every collection.
        """
        top = max(keep)
        for gen in {0, *range(max(1, top - _WINDOW), top + 3)} - keep:
            with contextlib.suppress(Exception):  # retried by the next ingest; never fails this one
                self._drop(gen)

    def create(self) -> View:
        """A new, empty, uncommitted generation above the head (a leftover of that number is dropped)."""
        gen = max(g or 0 for g in self.head()) + 1
        self._drop(gen)
        return self.open(gen, create=True)

    def commit(self, new: int, previous: int, extra: dict[str, str] | None = None) -> None:
        """The single write that makes generation ``new`` the index (``extra``: facts about ``new``)."""
        meta: dict[str, Any] = {**(extra or {}), "generation": new, "previous": previous}
        head = self.client.get_or_create_collection(f"{self.base}-head", metadata=meta, embedding_function=None)
        if head.metadata != meta:
            head.modify(metadata=meta)

    @staticmethod
    def copy(old: View, new: View, skip: set[str]) -> None:
        """Carry every row of documents not in ``skip`` from ``old`` into ``new``, vectors included."""
        where = {"doc_id": {"$nin": sorted(skip)}} if skip else None
        for src, dst in ((old.chunks, new.chunks), (old.sentences, new.sentences)):
            for page in pages(src, ["documents", "metadatas", "embeddings"], where):
                upsert(dst, page["ids"], page["embeddings"], page["documents"], page["metadatas"])
