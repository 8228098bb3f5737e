"""Ingest: bring an index in step with article files, all or nothing.

Chroma's metadata is the manifest (file hash and chunker per row: ``CHUNKER`` and the token
budgets). An unchanged file cut the current way is skipped (one cut another way is cut again,
reusing every vector whose text is unchanged); an edited file re-embeds only chunks and sentences whose content hash
is new (the other vectors are reused); documents whose files were deleted from
a scanned directory are dropped. An article id belongs to one source path: a
different file with the same stem is refused unless ``replace``. A file that
cannot be used (``InputError``, or any error while reading, cleaning or
chunking it) is reported in one line and the rest of the batch goes on. Everything is written into one new generation
(``rag.store.generations``), unchanged rows copied in with their vectors (so an
ingest that changes anything costs one copy of the store, but no embedding of
unchanged text), and committed at the end: an exception or a kill before the
commit leaves the index as it was, and the next run starts over. Clean-up
spares every generation a live reader holds (``rag.store.readers``). An ingest
that changes nothing writes no vectors. One ingest at a time (``rag.ingest.lock``).
Every finished ingest, from the CLI or the app, records its time and summary
in ``last_ingest.json`` beside the lock (``read_stamp`` reads it back).
Crash points for tests: ``chunked``, ``embedded``, ``written``, ``copied``,
``means``, ``committed`` (``rag.ingest.lock.checkpoint``). The index written
is anything with the few members ``Target`` names (``rag.store.index.Index``
is one; that module does not import this one). Reading the index is left to it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from langchain_core.embeddings import Embeddings

from rag.errors import InputError, RagError
from rag.ingest.chunking import CHUNKER, chunk_document
from rag.ingest.discover import discover, display_name
from rag.ingest.documents import load_document
from rag.ingest.lock import checkpoint, ingest_lock
from rag.models import Chunk, Document
from rag.redact import redact
from rag.retrieval.filters import metadata as filter_metadata
from rag.store import language_means
from rag.store.generations import Generations, View, upsert
from rag.store.pages import Row, rows
from rag.store.readers import held

Progress = Callable[[int, int, str], None]
Manifest = dict[str, tuple[set[str], str | None]]  # doc_id → (file hash and chunker of each of its rows, source)
STAMP = "last_ingest.json"


class Target(Protocol):
    """What an ingest needs of the index it writes into (``rag.store.index.Index`` is one)."""

    embeddings: Embeddings
    gens: Generations  # where the new generation is created and committed
    lock_dir: Path  # the ingest lock, the reader leases and the stamp live here
    cleaned: bool
    chunk_tokens: int
    overlap_tokens: int

    def refresh(self) -> View:
        """The committed generation, which this ingest builds on."""
        ...

    def use(self, view: View) -> None:
        """Read ``view`` from now on (the generation just committed)."""
        ...


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


def _manifest(records: Iterable[Row]) -> Manifest:
    out: Manifest = {}
    for _, meta, _ in records:
        hashes, _src = out.setdefault(meta["doc_id"], (set(), meta.get("source")))
        hashes.add(_built_from(meta.get("file_hash", ""), meta.get("chunker", "")))
    return out


def _built_from(file_hash: str, chunker: str) -> str:
    """What a row was built from: its file's hash and how it was cut (``_chunker``)."""
    return f"{file_hash}:{chunker}"


def _chunker(index: Target) -> str:
    """How ``index`` cuts documents: the chunker's version and its token budgets."""
    return f"{CHUNKER}/{index.chunk_tokens}/{index.overlap_tokens}"


def _vectors(collection: Any, doc_id: str) -> dict[str, list[float]]:
    """content_hash → stored vector of a document's rows, for reuse."""
    got = collection.get(where={"doc_id": doc_id}, include=["metadatas", "embeddings"])
    return {m["content_hash"]: [float(x) for x in v] for m, v in zip(got["metadatas"], got["embeddings"], strict=True)}


def _embed(index: Target, texts: list[str], hashes: list[str], known: dict[str, Any]) -> tuple[list[Any], int]:
    todo = sorted({h: t for h, t in zip(hashes, texts, strict=True) if h not in known}.items())
    if todo:
        try:
            vectors = index.embeddings.embed_documents([t for _, t in todo])
        except RagError:
            raise
        except Exception as exc:
            raise RagError(redact(f"embedding failed: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}")) from None
        known = {**known, **{h: v for (h, _), v in zip(todo, vectors, strict=True)}}
    return [known[h] for h in hashes], len(todo)


def _write_doc(index: Target, doc: Document, chunks: list[Chunk], old: View, new: View, report: IngestReport) -> None:
    """Embed (reusing ``old`` vectors by content hash) and write one document into ``new``."""
    vectors, n = _embed(index, [c.text for c in chunks], [c.content_hash for c in chunks],
                        _vectors(old.chunks, doc.doc_id))
    report.embedded_chunks += n
    checkpoint("embedded")
    s_ids, s_texts, s_hashes, s_metas = [], [], [], []
    for c in chunks:
        for k, (s, e) in enumerate(c.sentences):
            text = c.text[s:e]
            s_ids.append(f"{c.chunk_id}:{k:03d}")
            s_texts.append(text)
            s_hashes.append(hashlib.sha256(text.encode()).hexdigest()[:16])
            s_metas.append({"doc_id": doc.doc_id, "chunk_id": c.chunk_id, "start": s, "end": e,
                            "file_hash": doc.file_hash, "content_hash": s_hashes[-1],
                            **filter_metadata(doc, c.language)})
    s_vectors, n = _embed(index, s_texts, s_hashes, _vectors(old.sentences, doc.doc_id))
    report.embedded_sentences += n
    base = {k: v for k, v in {
        "doc_id": doc.doc_id, "title": doc.title, "outlet": doc.outlet, "author": doc.author,
        "published": doc.published, "url": doc.url, "source": doc.source, "file_hash": doc.file_hash,
        "doc_language": doc.language, "chunker": _chunker(index),
    }.items() if v is not None}
    metas = [
        {**base, "chunk_index": i, "start": c.start, "end": c.end, "language": c.language,
         "content_hash": c.content_hash, "sentences": json.dumps(c.sentences), **filter_metadata(doc, c.language)}
        for i, c in enumerate(chunks)
    ]
    upsert(new.chunks, [c.chunk_id for c in chunks], vectors, [c.text for c in chunks], metas)
    checkpoint("written")
    upsert(new.sentences, s_ids, s_vectors, s_texts, s_metas)


def _load(index: Target, path: Path, manifest: Manifest, replace: bool) -> tuple[Document, list[Chunk]] | None:
    """The document and its chunks, or None when its file is unchanged; ``InputError`` if unusable.

    An article id belongs to one source file: another existing file with the same stem
    is refused, naming both, unless ``replace``; a source that no longer exists was moved.
    """
    doc = load_document(path, cleaned=index.cleaned)
    hashes, source = manifest.get(doc.doc_id, (set(), None))
    if source not in (None, doc.source) and not replace and Path(source).exists():
        raise InputError(
            f"{display_name(path.name)}: the article id {doc.doc_id!r} already belongs to "
            f"{display_name(source)}, not {display_name(doc.source)}; rename one of the files, "
            "or run `rag ingest --replace` to let this file replace it"
        )
    if hashes == {_built_from(doc.file_hash, _chunker(index))} and source == doc.source:
        return None
    return doc, chunk_document(doc, index.chunk_tokens, index.overlap_tokens)


def _try_load(
    index: Target, path: Path, manifest: Manifest, report: IngestReport, replace: bool
) -> tuple[Document, list[Chunk]] | None:
    """``_load``, with any failure of this one file reported in one line instead of raised."""
    try:
        loaded = _load(index, path, manifest, replace)
    except InputError as exc:
        report.errors.append(redact(str(exc)))
        return None
    except Exception as exc:  # noqa: BLE001 - one odd file must not sink the batch
        detail = redact(" ".join(str(exc).split())[:200])
        report.errors.append(
            f"{display_name(path.name)}: could not be processed ({type(exc).__name__}: {detail}); skipped"
        )
        return None
    if loaded is None:
        report.unchanged.append(path.stem)
    return loaded


def run_ingest(
    index: Target, paths: Iterable[Path], progress: Progress | None = None, replace: bool = False
) -> IngestReport:
    """Ingest files and directories into ``index``; see the module docstring (``replace``: see ``_load``)."""
    report = IngestReport()
    files, dirs, report.errors = discover(paths)
    gens = index.gens
    with ingest_lock(index.lock_dir):
        old = index.refresh()
        gens.collect_garbage({g for g in (old.generation, gens.head()[1]) if g is not None} | held(index.lock_dir))
        manifest = _manifest(rows(old.chunks, []))
        new: View | None = None
        written: set[str] = set()
        seen: set[str] = set()
        for i, path in enumerate(files):
            if progress:
                progress(i, len(files), display_name(path.name))
            if path.stem in seen:
                report.errors.append(f"{display_name(path.name)}: another file already has the id "
                                     f"{display_name(path.stem)!r}; skipped")
                continue
            seen.add(path.stem)
            loaded = _try_load(index, path, manifest, report, replace)
            if loaded is None:
                continue
            checkpoint("chunked")
            doc, chunks = loaded
            new = new or gens.create()
            _write_doc(index, doc, chunks, old, new, report)
            written.add(doc.doc_id)
            (report.updated if doc.doc_id in manifest else report.added).append(doc.doc_id)
        for doc_id, (_, source) in sorted(manifest.items()):
            src = Path(source).resolve() if source else None
            if src and doc_id not in seen and any(src.is_relative_to(d) for d in dirs) and not src.exists():
                report.removed.append(doc_id)
        if new is None and report.removed:
            new = gens.create()
        if new is not None:
            gens.copy(old, new, written | set(report.removed))
            checkpoint("copied")
            means = language_means.encode(new.generation, language_means.compute(new.sentences))
            checkpoint("means")
            gens.commit(new.generation, old.generation, means)
            checkpoint("committed")
            index.use(new)
            gens.collect_garbage({new.generation, old.generation} | held(index.lock_dir))
        _write_stamp(index.lock_dir, report)
        if progress:
            progress(len(files), len(files), "done")
    return report


def _write_stamp(directory: Path, report: IngestReport) -> None:
    """Record this ingest's local time and summary, replacing the file in one rename."""
    stamp = {"time": time.strftime("%Y-%m-%d %H:%M:%S"), "summary": report.summary()}
    tmp = directory / f".{STAMP}.tmp"
    tmp.write_text(json.dumps(stamp, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, directory / STAMP)


def read_stamp(directory: Path) -> dict[str, str] | None:
    """The last finished ingest's ``{"time", "summary"}`` in ``directory``; None if none was recorded."""
    try:
        stamp = json.loads((directory / STAMP).read_text(encoding="utf-8"))
        return {"time": str(stamp["time"]), "summary": str(stamp["summary"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None
