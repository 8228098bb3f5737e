"""Start, wait for, restart and stop a local Chroma server (the one the ``chromadb`` package installs).

Runs ``chroma run --path DIR --host 127.0.0.1 --port PORT`` (the executable
beside ``sys.executable``) in its own process group, polls
``/api/v2/heartbeat`` until it answers, and stops it by process id: SIGTERM to
the group, SIGKILL if it lingers, then checks that nothing listens on the port
any more. Used by ``rag bench --chroma-server`` and by the server test.

What it leaves out: authentication, TLS, and Chroma's distributed deployment;
it is a single local server for measuring and testing, not for production.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from rag.errors import ConfigError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def chroma_executable() -> Path:
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        raise ConfigError(f"no `chroma` executable beside {sys.executable}; install chromadb in this environment")
    return exe


class ChromaServerProcess:
    """One ``chroma run`` process; a context manager that always stops it."""

    def __init__(self, path: Path, port: int | None = None, host: str = "127.0.0.1", log: Path | None = None) -> None:
        self.path = path
        self.host = host
        self.port = port or free_port()
        self.log = log or path.parent / f"chroma-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_s: float | None = None  # seconds from spawn to first heartbeat

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def heartbeat(self) -> bool:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=1)  # no proxy, unlike urllib
        try:
            conn.request("GET", "/api/v2/heartbeat")
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def start(self, timeout: float = 60) -> Self:
        if port_open(self.port, self.host):
            raise ConfigError(f"port {self.port} is already in use; pick another")
        self.path.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "NO_COLOR": "1"}
        t0 = time.perf_counter()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(chroma_executable()), "run", "--path", str(self.path), "--host", self.host, "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ConfigError(f"the Chroma server exited with {self.proc.returncode}; see {self.log}")
            if self.heartbeat():
                self.started_s = round(time.perf_counter() - t0, 3)
                return self
            time.sleep(0.1)
        self.stop()
        raise ConfigError(f"the Chroma server did not answer within {timeout:.0f} s; see {self.log}")

    def stop(self, timeout: float = 10) -> None:
        """Stop the server's process group by id; wait until the port is free."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the group id is the server's pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        self.proc.wait(timeout=timeout)
        deadline = time.monotonic() + timeout
        while port_open(self.port, self.host) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.proc = None

    def peak_rss_mb(self) -> float | None:
        """The server's peak resident memory so far (VmHWM), in MiB; None when not running."""
        if self.proc is None:
            return None
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            return None
        return None

    def restart(self) -> Self:
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
