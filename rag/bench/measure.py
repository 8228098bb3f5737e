"""Measuring tools: phase stopwatches, latency summaries, growth slopes, memory, disk, child processes.

Percentiles interpolate linearly between order statistics (numpy's default),
so p99 of 100 samples sits between the two slowest. A growth slope is the
factor a figure is multiplied by per 10× more chunks, fitted on a log-log line
between two scales. This process's peak RSS comes from ``getrusage`` (Linux
reports KiB); a child's is sampled from its own ``VmHWM``. Nothing here knows
about the index or the chain, and nothing asserts.
"""

from __future__ import annotations

import math
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


class Stopwatch:
    """Named running totals of seconds and calls; safe to share across threads."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds
            self.calls[name] = self.calls.get(name, 0) + 1

    @contextmanager
    def time(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - t0)

    def get(self, name: str) -> float:
        return self.seconds.get(name, 0.0)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100), linear between order statistics; None when empty."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass
class Stats:
    """Latency summary in milliseconds."""

    n: int
    mean: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    min: float | None
    max: float | None


def summarize(values_ms: Sequence[float]) -> Stats:
    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 3)

    vals = list(values_ms)
    return Stats(
        n=len(vals),
        mean=r(sum(vals) / len(vals)) if vals else None,
        p50=r(percentile(vals, 50)),
        p95=r(percentile(vals, 95)),
        p99=r(percentile(vals, 99)),
        min=r(min(vals)) if vals else None,
        max=r(max(vals)) if vals else None,
    )


@dataclass
class Growth:
    """How a figure grows with the corpus, between two scales."""

    from_chunks: int
    to_chunks: int
    from_value: float
    to_value: float
    factor_per_10x: float | None  # value multiplied by this per 10× more chunks
    exponent: float | None  # value ∝ chunks ** exponent


def growth(from_chunks: int, from_value: float | None, to_chunks: int, to_value: float | None) -> Growth | None:
    if not from_value or not to_value or from_chunks <= 0 or to_chunks <= from_chunks:
        return None
    decades = math.log10(to_chunks / from_chunks)
    exponent = math.log10(to_value / from_value) / decades if from_value > 0 and to_value > 0 else None
    return Growth(
        from_chunks=from_chunks,
        to_chunks=to_chunks,
        from_value=round(from_value, 4),
        to_value=round(to_value, 4),
        factor_per_10x=None if exponent is None else round(10**exponent, 3),
        exponent=None if exponent is None else round(exponent, 3),
    )


def project(g: Growth, chunks: int) -> float | None:
    """The value at ``chunks`` on the fitted log-log line (an extrapolation: label it so)."""
    if g.exponent is None:
        return None
    return g.to_value * (chunks / g.to_chunks) ** g.exponent


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def dir_bytes(path: Path) -> int:
    """Bytes of every file under ``path`` (apparent sizes, like ``du -b``)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


@dataclass
class ChildRun:
    """One child process: when its first stdout line came, when it exited, its peak memory."""

    returncode: int
    first_line_s: float | None
    exit_s: float
    max_rss_mb: float | None
    first_line: str = ""
    stderr_tail: str = ""


def status_mb(pid: int | str, field: str) -> float | None:
    """A memory line of ``/proc/PID/status`` (``VmRSS``, ``VmHWM``, ...) in MiB; None where unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def run_child(cmd: Sequence[str], env: dict[str, str], cwd: Path | None = None, timeout: float = 120) -> ChildRun:
    """Run ``cmd``; time its first stdout line and its exit; sample its peak RSS.

    The peak is the child's own ``VmHWM`` sampled every 10 ms until it exits:
    ``wait4``'s ``ru_maxrss`` would not do, since Linux carries the parent's
    high-water mark at fork time over into the child's.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True,
        start_new_session=True,
    )
    err_lines: list[str] = []
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            hwm = status_mb(proc.pid, "VmHWM")
            if hwm:
                peak[0] = max(peak[0], hwm)
            done.wait(0.01)

    threads = [
        threading.Thread(target=lambda: err_lines.extend(proc.stderr or []), daemon=True),
        threading.Thread(target=sample, daemon=True),
    ]
    for t in threads:
        t.start()
    timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, 9))
    timer.start()
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        first_s = time.perf_counter() - t0 if first else None
        proc.stdout.read()
        proc.wait()
        exit_s = time.perf_counter() - t0
    finally:
        timer.cancel()
        done.set()
    for t in threads:
        t.join(timeout=5)
    return ChildRun(
        returncode=proc.returncode,
        first_line_s=None if first_s is None else round(first_s, 3),
        exit_s=round(exit_s, 3),
        max_rss_mb=round(peak[0], 1) if peak[0] else None,
        first_line=first.strip()[:20000],
        stderr_tail="".join(err_lines)[-2000:],
    )


@dataclass
class Machine:
    cpus: int | None
    python: str
    platform: str
    omp_num_threads: str | None
    loadavg_start: list[float] = field(default_factory=list)
    loadavg_end: list[float] = field(default_factory=list)


def machine() -> Machine:
    return Machine(
        cpus=os.cpu_count(),
        python=sys.version.split()[0],
        platform=platform.platform(),
        omp_num_threads=os.environ.get("OMP_NUM_THREADS"),
        loadavg_start=loadavg(),
    )


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []
