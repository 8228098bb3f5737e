"""Which files an ingest reads: expand directories into article files, safely.

A directory is walked recursively for the article suffixes. Hidden files and
anything under a hidden directory are skipped; links are followed only when
they resolve inside the directory given (a link out of it, a broken link or a
link loop is reported, not followed). A file named explicitly is taken as it
is. Problems come back as one-line messages, never as exceptions.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rag.ingest.documents import SUFFIXES
from rag.ingest.files import display_name

__all__ = ["discover", "display_name"]


def _walk(root_arg: Path, root: Path, files: list[Path], errors: list[str]) -> None:
    for f in sorted(root_arg.rglob("*")):
        rel = f.relative_to(root_arg)
        if any(part.startswith(".") for part in rel.parts) or f.suffix.lower() not in SUFFIXES:
            continue
        if f.is_dir():
            continue
        try:
            target = f.resolve(strict=True)
        except (OSError, RuntimeError):  # dangling link, link loop, unreadable
            errors.append(f"{display_name(f.name)}: a broken or looping link; not followed")
            continue
        if not target.is_relative_to(root):
            errors.append(f"{display_name(f.name)}: a link out of {display_name(str(root_arg))}; not followed")
            continue
        files.append(f)


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Path], list[str]]:
    """Expand files and directories into article files; return (files, dirs, errors)."""
    files: list[Path] = []
    dirs: list[Path] = []
    errors: list[str] = []
    for path in paths:
        if path.is_dir():
            root = path.resolve()
            dirs.append(root)
            _walk(path, root, files, errors)
        elif path.is_file():
            files.append(path)
        else:
            errors.append(f"{display_name(str(path))}: no such file or directory")
    return files, dirs, errors
