"""One writer at a time, and named crash points for the ingest tests.

``ingest_lock`` takes a non-blocking ``flock`` on ``<dir>/ingest.lock``: a second
ingest fails at once with ``IndexBusyError`` instead of waiting or interleaving
its writes. The kernel drops the lock when its holder dies, even by SIGKILL, so
a killed ingest never leaves the index locked. The lock guards one machine's
writers; several machines sharing one Chroma server are not coordinated.

``checkpoint(phase)`` is a test hook: with ``RAG_TEST_KILL_AT=<phase>`` set, the
process SIGKILLs itself there; with ``RAG_TEST_PAUSE_AT=<phase>`` it prints
``rag-test: paused at <phase>`` on stderr and sleeps ``RAG_TEST_PAUSE_SECONDS``
(default 10). Unset, it does nothing.
"""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from rag.errors import IndexBusyError

LOCK_FILE = "ingest.lock"


def acquire(lock_dir: Path) -> IO[str]:
    """The held lock file (close it to release); ``IndexBusyError`` if another ingest holds it."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    handle = open(lock_dir / LOCK_FILE, "a+")  # noqa: SIM115 - held open: closing it releases the lock
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


@contextmanager
def ingest_lock(lock_dir: Path) -> Iterator[None]:
    handle = acquire(lock_dir)
    try:
        yield
    finally:
        handle.close()


def checkpoint(phase: str) -> None:
    """Die or pause here when a test asked for it (see the module docstring)."""
    if os.environ.get("RAG_TEST_KILL_AT") == phase:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("RAG_TEST_PAUSE_AT") == phase:
        sys.stderr.write(f"rag-test: paused at {phase}\n")
        sys.stderr.flush()
        time.sleep(float(os.environ.get("RAG_TEST_PAUSE_SECONDS", "10")))
