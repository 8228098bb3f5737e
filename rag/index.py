"""The vector store: Chroma collections of chunks and sentences, kept in step with files.

Opens a local ``PersistentClient`` or, when a host is given, a Chroma server
through ``HttpClient`` (telemetry off either way; vectors are always passed in,
so Chroma's own default embedding function is never loaded). Each embedder gets
its own pair of collections, so vectors of different models never mix.

Ingest is idempotent and incremental: Chroma's metadata is the manifest. A file
whose bytes are unchanged is skipped; an edited file re-embeds only chunks and
sentences whose content hash is new; chunks of deleted files are removed. New
vectors are written before stale ids are deleted, so a killed ingest leaves a
queryable index and the next run finishes the job. One ingest at a time holds
a lock file. Retrieval and the keyword index live elsewhere.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from rag.chunking import chunk_document
from rag.documents import SUFFIXES, load_document
from rag.embeddings import collection_slug
from rag.errors import ConfigError, IndexBusyError, InputError, RagError

Progress = Callable[[int, int, str], None]
_PAGE = 1000


@dataclass(frozen=True)
class ChromaServer:
    """Where a Chroma server listens (``CHROMA_HOST`` and friends)."""

    host: str
    port: int = 8000
    ssl: bool = False
    token: str | None = None


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    embedded_chunks: int = 0
    embedded_sentences: int = 0

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}, rejected {len(self.errors)}; "
            f"embedded {self.embedded_chunks} chunks and {self.embedded_sentences} sentences"
        )


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
    persist_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(persist_dir), settings=settings)


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Path], list[str]]:
    """Expand files and directories into article files; return (files, dirs, errors)."""
    files: list[Path] = []
    dirs: list[Path] = []
    errors: list[str] = []
    for path in paths:
        if path.is_dir():
            root = path.resolve()
            dirs.append(root)
            for f in sorted(path.rglob("*")):
                if f.name.startswith(".") or f.suffix.lower() not in SUFFIXES or f.is_dir():
                    continue
                if not f.resolve().is_relative_to(root):
                    errors.append(f"{f.name}: a link out of {path}; not followed")
                    continue
                files.append(f)
        elif path.is_file():
            files.append(path)
        else:
            errors.append(f"{path}: no such file or directory")
    return files, dirs, errors


def _clean_meta(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in meta.items() if v is not None}


class Index:
    """A pair of Chroma collections (chunks, sentences) for one embedder."""

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
        meta = {"hnsw:space": "cosine", "embedding_model": embedding_model}
        self.chunks = client.get_or_create_collection(f"{name}-chunks", metadata=meta, embedding_function=None)
        self.sentences = client.get_or_create_collection(
            f"{name}-sentences", metadata=meta, embedding_function=None
        )

    # ---- reading -------------------------------------------------------------------

    def count(self) -> int:
        return self.chunks.count()

    def records(self, include: list[str]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
        """Every chunk as (id, metadata, extra fields named in ``include``), paged."""
        offset = 0
        while True:
            page = self.chunks.get(include=["metadatas", *include], limit=_PAGE, offset=offset)
            if not page["ids"]:
                return
            for i, cid in enumerate(page["ids"]):
                yield cid, page["metadatas"][i], {k: page[k][i] for k in include}
            offset += len(page["ids"])

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
        """Mean sentence vector per language ('en'/'zh') over the whole store."""
        import numpy as np

        from rag.text import detect_language

        sums: dict[str, Any] = {}
        counts: dict[str, int] = {}
        offset = 0
        while True:
            page = self.sentences.get(include=["documents", "embeddings"], limit=_PAGE * 5, offset=offset)
            if not page["ids"]:
                break
            for text, vec in zip(page["documents"], page["embeddings"], strict=True):
                lang = detect_language(text)
                sums[lang] = sums.get(lang, 0) + np.asarray(vec, dtype=np.float64)
                counts[lang] = counts.get(lang, 0) + 1
            offset += len(page["ids"])
        return {lang: (sums[lang] / counts[lang]).astype(np.float32) for lang in sums}

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

    # ---- writing -------------------------------------------------------------------

    def _lock(self) -> Any:
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.lock_dir / "ingest.lock", "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise IndexBusyError(
                "another ingest is writing this index; wait for it to finish and run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    def _existing(self, collection: Any, doc_id: str) -> dict[str, Any]:
        """content_hash → embedding for a document's stored rows (for reuse)."""
        got = collection.get(where={"doc_id": doc_id}, include=["metadatas", "embeddings"])
        return {
            "ids": set(got["ids"]),
            "file_hashes": {m.get("file_hash") for m in got["metadatas"]},
            "vectors": {
                m["content_hash"]: [float(x) for x in v]
                for m, v in zip(got["metadatas"], got["embeddings"], strict=True)
            },
        }

    def _embed(self, texts: list[str], hashes: list[str], known: dict[str, Any]) -> tuple[list[Any], int]:
        todo = sorted({h: t for h, t in zip(hashes, texts, strict=True) if h not in known}.items())
        if todo:
            try:
                vectors = self.embeddings.embed_documents([t for _, t in todo])
            except RagError:
                raise
            except Exception as exc:
                raise RagError(f"embedding failed: {type(exc).__name__}: {exc}") from exc
            known = {**known, **{h: v for (h, _), v in zip(todo, vectors, strict=True)}}
        return [known[h] for h in hashes], len(todo)

    def _upsert(self, collection: Any, ids: list[str], vectors: list[Any], docs: list[str], metas: list[dict]) -> None:
        step = 2000
        for i in range(0, len(ids), step):
            collection.upsert(
                ids=ids[i : i + step],
                embeddings=vectors[i : i + step],
                documents=docs[i : i + step],
                metadatas=metas[i : i + step],
            )

    def _delete_doc(self, doc_id: str) -> None:
        for collection in (self.chunks, self.sentences):
            collection.delete(where={"doc_id": doc_id})

    def ingest_file(self, path: Path, report: IngestReport) -> None:
        """Bring one file's chunks and sentences in step with its contents."""
        doc = load_document(path, cleaned=self.cleaned)
        old_chunks = self._existing(self.chunks, doc.doc_id)
        if old_chunks["ids"] and old_chunks["file_hashes"] == {doc.file_hash}:
            old_sources = self.chunks.get(ids=[next(iter(old_chunks["ids"]))], include=["metadatas"])
            if old_sources["metadatas"][0].get("source") not in (None, doc.source):
                raise InputError(
                    f"{path.name}: document id {doc.doc_id!r} is already taken by "
                    f"{old_sources['metadatas'][0]['source']}; rename one of the files"
                )
            report.unchanged.append(doc.doc_id)
            return
        chunks = chunk_document(doc, self.chunk_tokens, self.overlap_tokens)
        base = _clean_meta(
            {
                "doc_id": doc.doc_id,
                "title": doc.title,
                "outlet": doc.outlet,
                "author": doc.author,
                "published": doc.published,
                "url": doc.url,
                "source": doc.source,
                "file_hash": doc.file_hash,
                "doc_language": doc.language,
            }
        )
        vectors, n = self._embed([c.text for c in chunks], [c.content_hash for c in chunks], old_chunks["vectors"])
        report.embedded_chunks += n
        old_sents = self._existing(self.sentences, doc.doc_id)
        s_ids, s_texts, s_hashes, s_metas = [], [], [], []
        for c in chunks:
            for k, (s, e) in enumerate(c.sentences):
                text = c.text[s:e]
                s_ids.append(f"{c.chunk_id}:{k:03d}")
                s_texts.append(text)
                s_hashes.append(hashlib.sha256(text.encode()).hexdigest()[:16])
                s_metas.append(
                    {"doc_id": doc.doc_id, "chunk_id": c.chunk_id, "start": s, "end": e, "file_hash": doc.file_hash}
                )
        s_vectors, n = self._embed(s_texts, s_hashes, old_sents["vectors"])
        report.embedded_sentences += n
        for meta, h in zip(s_metas, s_hashes, strict=True):
            meta["content_hash"] = h
        metas = [
            {
                **base,
                "chunk_index": i,
                "start": c.start,
                "end": c.end,
                "language": c.language,
                "content_hash": c.content_hash,
                "sentences": json.dumps(c.sentences),
            }
            for i, c in enumerate(chunks)
        ]
        # Write new rows first, then drop stale ones: a kill in between leaves extra, never missing, rows.
        self._upsert(self.chunks, [c.chunk_id for c in chunks], vectors, [c.text for c in chunks], metas)
        self._upsert(self.sentences, s_ids, s_vectors, s_texts, s_metas)
        stale_chunks = sorted(old_chunks["ids"] - {c.chunk_id for c in chunks})
        stale_sents = sorted(old_sents["ids"] - set(s_ids))
        if stale_chunks:
            self.chunks.delete(ids=stale_chunks)
        if stale_sents:
            self.sentences.delete(ids=stale_sents)
        (report.updated if old_chunks["ids"] else report.added).append(doc.doc_id)

    def ingest(self, paths: Iterable[Path], progress: Progress | None = None) -> IngestReport:
        """Ingest files and directories; prune documents deleted from scanned directories."""
        report = IngestReport()
        files, dirs, report.errors = discover(paths)
        lock = self._lock()
        try:
            seen: set[str] = set()
            for i, path in enumerate(files):
                if progress:
                    progress(i, len(files), path.name)
                if path.stem in seen:
                    report.errors.append(f"{path.name}: another file already has the id {path.stem!r}; skipped")
                    continue
                seen.add(path.stem)
                try:
                    self.ingest_file(path, report)
                except InputError as exc:
                    report.errors.append(str(exc))
            if progress:
                progress(len(files), len(files), "done")
            for info in self.documents():
                src = Path(info.source).resolve() if info.source else None
                if src and info.doc_id not in seen and any(src.is_relative_to(d) for d in dirs) and not src.exists():
                    self._delete_doc(info.doc_id)
                    report.removed.append(info.doc_id)
        finally:
            lock.close()
        return report


def open_index(
    persist_dir: Path,
    embeddings: Embeddings,
    embedding_model: str,
    server: ChromaServer | None = None,
    **options: Any,
) -> Index:
    return Index(make_client(persist_dir, server), embeddings, embedding_model, lock_dir=persist_dir, **options)
