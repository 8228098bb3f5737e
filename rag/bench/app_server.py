"""Start ``streamlit run`` on a free loopback port, and stop it by the pid that holds the port.

Used by the benchmark's app start-up timing (``app_start``) and the browser test.

The server runs in its own process group with the caller's environment (so
the network guard on PYTHONPATH applies) and a log file. Stopping finds the
process listening on the port through /proc (a wrapper's pid may not be the
server's) and ends that process group, checking it is the group we started.
What it leaves out: any browser driving (``app_start``, ``tests/test_browser.py``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.bench.server import free_port


def listening_pids(port: int) -> set[int]:
    """Pids with a socket listening on ``port`` (Linux /proc; IPv4 and IPv6)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A = LISTEN
                inodes.add(fields[9])
    pids: set[int] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    pids.add(int(proc.name))
                    break
        except OSError:
            continue
    return pids


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"streamlit not healthy after {timeout:.0f}s:\n{log.read_text()[-3000:]}")


def stop(port: int, group: int, timeout: float = 10) -> None:
    """End the process group that holds ``port``; it must be ``group`` (the one we started)."""
    holders = set()
    for pid in listening_pids(port):
        try:
            holders.add(os.getpgid(pid))
        except ProcessLookupError:
            pass
    if holders - {group}:
        raise RuntimeError(f"port {port} is held by process groups {holders}, not ours ({group}); left alone")
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and listening_pids(port):
            time.sleep(0.1)
        if not listening_pids(port):
            return


def app_cwd(app: Path, cwd: Path) -> Path:
    """A working directory for ``streamlit run``: the project's ``.streamlit`` config, not the developer's ``.env``."""
    (cwd / ".streamlit").mkdir(parents=True, exist_ok=True)
    config = app.parent / ".streamlit" / "config.toml"
    if config.exists():
        shutil.copy(config, cwd / ".streamlit" / "config.toml")
    return cwd


@contextmanager
def streamlit_server(app: Path, cwd: Path, env: dict[str, str], log: Path, timeout: float = 90) -> Iterator[str]:
    """Yield the base URL of a running ``streamlit run app``; always stopped afterwards."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log, timeout)
        yield url
    finally:
        stop(port, proc.pid)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
