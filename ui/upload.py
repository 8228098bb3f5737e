"""Add uploaded article files to the corpus: validate, save into the seeds dir, ingest incrementally.

Each file is checked before anything is written: a safe base name (no path
parts, no hidden files), an allowed suffix, the size limit, and a trial load
with ``load_document`` whose ``InputError`` is the reason shown. A different
file already saved under the same name (or the same document id) is left alone
unless ``replace`` is set. Only the saved files are ingested, so no other
article is touched; a file the index then rejects is removed again (or the old
version restored). No Streamlit here: the Corpus page calls ``add_uploads``.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rag.ingest.documents import MAX_FILE_BYTES, SUFFIXES, load_document
from rag.errors import InputError
from rag.ingest.run import IngestReport, Progress, run_ingest
from rag.store.index import Index

_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


@dataclass
class Outcome:
    name: str
    ok: bool
    message: str


def safe_filename(name: str) -> str:
    """The base name of an uploaded file, reduced to safe characters; ``InputError`` if unusable."""
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").split("/")[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    stem, suffix = Path(base).stem.strip(" ._"), Path(base).suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{name}: unsupported file type; use one of {', '.join(sorted(SUFFIXES))}")
    if not stem:
        raise InputError(f"{name}: the file name has no usable characters; rename it")
    stem = stem[:100]
    while len(stem.encode("utf-8")) > 200:  # NAME_MAX is 255 bytes; Chinese is 3 bytes a character
        stem = stem[:-1]
    return f"{stem}{suffix}"


def _check(name: str, data: bytes, seeds: Path, indexed: dict[str, str], replace: bool) -> tuple[Path, bytes | None]:
    """Where to save ``data`` and the bytes it replaces; raises ``InputError`` with the reason."""
    safe = safe_filename(name)
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{name}: {len(data) / 1e6:.1f} MB is over the {MAX_FILE_BYTES // 2**20} MB limit")
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / safe
        trial.write_bytes(data)
        load_document(trial)  # the reason a file cannot be used, before anything is saved
    target = seeds / safe
    if target.resolve().parent != seeds.resolve():
        raise InputError(f"{name}: not a plain file name")
    stem = target.stem
    clash = [p for p in seeds.glob("*") if p.stem == stem and p.name != safe and p.suffix.lower() in SUFFIXES]
    if clash or (stem in indexed and Path(indexed[stem]).resolve() != target.resolve()):
        other = clash[0].name if clash else indexed[stem]
        raise InputError(f"{safe}: the article id {stem!r} is already used by {other}; rename the file")
    old = target.read_bytes() if target.exists() else None
    if old is not None and old != data and not replace:
        raise InputError(
            f"{safe}: a different file with this name is already in the corpus; "
            "tick “Replace existing files” to update it, or rename the file"
        )
    return target, old


def add_uploads(
    files: Iterable[tuple[str, bytes]],
    seeds_dir: Path,
    index: Index,
    *,
    replace: bool = False,
    progress: Progress | None = None,
) -> tuple[list[Outcome], IngestReport | None]:
    """Validate, save and ingest ``(name, bytes)`` pairs; one ``Outcome`` per file."""
    seeds = Path(seeds_dir)
    seeds.mkdir(parents=True, exist_ok=True)
    indexed = {d.doc_id: d.source for d in index.documents()}
    outcomes: list[Outcome] = []
    saved: dict[Path, tuple[str, bytes | None]] = {}  # path → (uploaded name, bytes it replaced)
    for name, data in files:
        try:
            target, old = _check(name, data, seeds, indexed, replace)
            if target in saved:
                raise InputError(f"{name}: uploaded twice in one go; skipped the second copy")
        except InputError as exc:
            outcomes.append(Outcome(name, False, str(exc)))
            continue
        if old != data:
            tmp = target.with_name(f".upload-{target.name}")
            tmp.write_bytes(data)
            tmp.replace(target)
        saved[target] = (name, old)
    if not saved:
        return outcomes, None
    try:
        report = run_ingest(index, list(saved), progress)
    except Exception:
        _restore(saved)
        raise
    done = {
        **{d: "added" for d in report.added},
        **{d: "updated" for d in report.updated},
        **{d: "already indexed, unchanged" for d in report.unchanged},
    }
    for path, (name, old) in saved.items():
        if path.stem in done:
            outcomes.append(Outcome(name, True, f"{path.name}: {done[path.stem]}"))
        else:
            reason = next((e for e in report.errors if path.name in e or path.stem in e), "rejected by the index")
            _restore({path: (name, old)})
            outcomes.append(Outcome(name, False, reason))
    return outcomes, report


def _restore(saved: dict[Path, tuple[str, bytes | None]]) -> None:
    """Undo saves: remove new files, put replaced bytes back."""
    for path, (_, old) in saved.items():
        if old is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(old)
