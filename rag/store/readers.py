"""Reader leases: which generations live processes are reading, so clean-up spares them.

Each open index keeps one small file, ``<dir>/readers/<pid>-<n>``, listing
the generations its threads are on (rewritten only when that set
changes). ``held`` returns the generations named by the files of live
processes and deletes the files of dead ones, so a killed reader never pins a
generation for long. Leases coordinate the processes of one machine, like the
ingest lock; they say nothing about what is in a generation.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import weakref
from pathlib import Path

DIRECTORY = "readers"
_SERIAL = itertools.count()  # one lease file per open Index, several per process


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


class Leases:
    """This process's lease file: the generation each reading thread is on."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / DIRECTORY / f"{os.getpid()}-{next(_SERIAL)}"
        self._by_thread: dict[int, int] = {}
        self._written: frozenset[int] = frozenset()
        self._lock = threading.Lock()
        weakref.finalize(self, self.path.unlink, missing_ok=True)  # an Index dropped unclosed lets go too

    def hold(self, generation: int) -> None:
        """Record that the calling thread now reads ``generation`` (threads that ended are forgotten)."""
        with self._lock:
            self._by_thread[threading.get_ident()] = generation
            live = {t.ident for t in threading.enumerate()}
            self._by_thread = {t: g for t, g in self._by_thread.items() if t in live}
            gens = frozenset(self._by_thread.values())
            if gens == self._written:
                return
            with contextlib.suppress(OSError):  # a read-only store just goes without a lease
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_name(f".{self.path.name}.tmp")
                tmp.write_text(" ".join(map(str, sorted(gens))))
                os.replace(tmp, self.path)
                self._written = gens

    def release(self) -> None:
        """Drop the lease file (the process stops reading)."""
        with self._lock:
            self._by_thread.clear()
            self._written = frozenset()
            self.path.unlink(missing_ok=True)


def held(directory: Path) -> set[int]:
    """Generations leased by live processes; the lease files of dead processes are removed."""
    out: set[int] = set()
    folder = Path(directory) / DIRECTORY
    if not folder.is_dir():
        return out
    for path in folder.iterdir():
        pid = path.name.split("-")[0]
        if not pid.isdigit():
            continue
        if not _alive(int(pid)):
            path.unlink(missing_ok=True)
            continue
        with contextlib.suppress(OSError, ValueError):
            out |= {int(x) for x in path.read_text().split()}
    return out
