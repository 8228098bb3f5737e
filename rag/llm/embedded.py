"""The embedded answerer: llama.cpp's own HTTP server (the ``xllamacpp`` wheel), once per process.

``start(config)`` loads a GGUF file into an ``xllamacpp.Server`` bound to
127.0.0.1 on a free port (``port = 0``; the OS picks it, ``listening_address``
tells it), waits for ``/health``, and returns the base URL. One server per
``ServerConfig`` per process, started by whichever thread asks first (the
others wait on the same start); ``start_in_background`` does the same on a
daemon thread so the app can show "loading" instead of blocking. Every server
is stopped at process exit (``atexit``), or by ``stop_all``.

The server is a real OpenAI-compatible endpoint: continuous batching over
``parallel`` slots, each with up to ``ctx`` tokens (one shared, unified KV
cache), and the prompt (prefix) cache on, so the fixed instructions at the start
of every RAG prompt are processed once per slot, not once per question. The
chain talks to it through ``ChatOpenAI`` like any other server (``rag.llm.providers``).

Threads: all cores by default for both prompt processing and decoding, with
passive waits (``OMP_WAIT_POLICY=PASSIVE`` and no busy polling): on a 2-core
machine shared with the embedder or another process, spinning waits cut
decoding 3–4×.

It leaves out model files (``rag model fetch``), HTTP calls (the openai client),
and any choice of answerer (``rag.llm.providers``). Nothing is downloaded: the path
must be a local GGUF file.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

GGUF_MAGIC = b"GGUF"
NO_WHEEL = (
    "the embedded model needs the xllamacpp wheel, which is not installed or has no build for this "
    "platform (prebuilt for Linux x86_64); run  pip install -e .  or use RAG_CHAT_MODEL=openai:… / extractive"
)
HEALTH_TIMEOUT_S = 120.0


class State(str, Enum):
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class ServerConfig:
    model_path: Path
    threads: int | None = None  # None: all cores
    ctx: int = 8192  # tokens per slot (the KV cache is shared by all slots)
    parallel: int = 4  # questions decoded at once
    max_tokens: int = 512  # the server's cap on any reply

    @property
    def n_threads(self) -> int:
        return max(1, self.threads or os.cpu_count() or 1)


@dataclass
class _Entry:
    state: State = State.LOADING
    server: Any = None
    base_url: str | None = None
    error: Exception | None = None
    load_s: float | None = None
    done: threading.Event = field(default_factory=threading.Event)


_LOCK = threading.Lock()
_SERVERS: dict[ServerConfig, _Entry] = {}


def import_xllamacpp() -> Any:
    """The ``xllamacpp`` module, or a ``ConfigError`` saying it is missing."""
    # libgomp reads the wait policy once, when it loads; an explicit setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import xllamacpp
    except ImportError:  # no wheel for this platform, or not installed
        raise ConfigError(NO_WHEEL) from None
    return xllamacpp


def wheel_available() -> bool:
    try:
        import_xllamacpp()
    except ConfigError:
        return False
    return True


def check_gguf(path: Path, hint: str) -> Path:
    """The absolute path of a readable GGUF file, else a ``ConfigError`` ending in ``hint``."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"the model file {path} does not exist; {hint}")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise ConfigError(f"cannot read the model file {path}: {exc.strerror or exc}") from None
    if magic != GGUF_MAGIC:
        raise ConfigError(f"{path} is not a GGUF model file (llama.cpp needs .gguf); {hint}")
    return path


def _params(xllamacpp: Any, config: ServerConfig) -> Any:
    p = xllamacpp.CommonParams()
    p.model.path = str(config.model_path)
    p.hostnames = ["127.0.0.1"]  # loopback only: nothing outside this machine can reach it
    p.port = 0  # a free port, chosen by the OS
    p.n_ctx = config.ctx
    p.n_parallel = config.parallel
    p.kv_unified = True  # every slot may use the whole context; they share one KV cache
    p.n_predict = config.max_tokens
    p.cache_prompt = True  # reuse the longest common prefix of the slot's previous prompt
    p.n_cache_reuse = 256  # …and shifted chunks of it of at least 256 tokens
    p.cache_ram_mib = 256  # host-memory prompt cache for idle slots (llama.cpp's default: 8 GiB)
    for cpu in (p.cpuparams, p.cpuparams_batch):
        cpu.n_threads = config.n_threads
        cpu.poll = 0  # sleep, don't spin, between work items
    p.ui = False  # no web UI, only the API
    p.endpoint_metrics = False
    p.verbosity = 0
    return p


def _wait_healthy(base_url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/health", timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass  # 503 while loading, or not listening yet
        if time.monotonic() > deadline:
            raise ConfigError(f"the embedded model server at {base_url} did not become healthy in {timeout:.0f} s")
        time.sleep(0.1)


def _load(config: ServerConfig, entry: _Entry) -> None:
    t0 = time.perf_counter()
    try:
        xllamacpp = import_xllamacpp()
        try:
            server = xllamacpp.Server(_params(xllamacpp, config))
        except Exception as exc:  # llama.cpp: "failed to load model" and the like
            raise ConfigError(
                f"llama.cpp could not load {config.model_path} ({type(exc).__name__}: {exc}); "
                "is it a complete GGUF chat model?"
            ) from None
        base_url = str(server.listening_address).rstrip("/")
        _wait_healthy(base_url, HEALTH_TIMEOUT_S)
        entry.server, entry.base_url = server, base_url
        entry.load_s = time.perf_counter() - t0
        entry.state = State.READY
    except Exception as exc:  # kept for every waiter; the next start tries again
        entry.error = exc if isinstance(exc, ConfigError) else ConfigError(
            f"the embedded model server failed to start ({type(exc).__name__}: {exc})"
        )
        entry.state = State.FAILED
    finally:
        entry.done.set()


def _entry(config: ServerConfig) -> tuple[_Entry, bool]:
    """The entry for ``config`` and whether the caller must load it (first asker, or after a failure)."""
    with _LOCK:
        entry = _SERVERS.get(config)
        if entry is None or entry.state is State.FAILED:
            entry = _SERVERS[config] = _Entry()
            return entry, True
        return entry, False


def start(config: ServerConfig) -> str:
    """The base URL (``http://127.0.0.1:<port>``) of the server for ``config``, starting it if needed."""
    entry, mine = _entry(config)
    if mine:
        _load(config, entry)
    entry.done.wait()
    if entry.state is not State.READY:
        assert entry.error is not None
        raise entry.error
    assert entry.base_url is not None
    return entry.base_url


def start_in_background(config: ServerConfig) -> None:
    """Begin loading ``config`` on a daemon thread (no-op if it is loading or up)."""
    entry, mine = _entry(config)
    if mine:
        threading.Thread(target=_load, args=(config, entry), name="embedded-llm-load", daemon=True).start()


def state(config: ServerConfig) -> tuple[State | None, str | None]:
    """(state, error message) of the server for ``config``; (None, None) if never started."""
    with _LOCK:
        entry = _SERVERS.get(config)
    if entry is None:
        return None, None
    return entry.state, (str(entry.error) if entry.error else None)


def load_seconds(config: ServerConfig) -> float | None:
    with _LOCK:
        entry = _SERVERS.get(config)
    return entry.load_s if entry else None


def stop(config: ServerConfig) -> None:
    """Stop the server for ``config`` (its port closes; a later ``start`` loads it again)."""
    with _LOCK:
        entry = _SERVERS.pop(config, None)
    if entry is not None:
        entry.done.wait()
        entry.server = None  # xllamacpp stops the HTTP server and frees the model when the object goes


def stop_all() -> None:
    with _LOCK:
        configs = list(_SERVERS)
    for config in configs:
        stop(config)


atexit.register(stop_all)
