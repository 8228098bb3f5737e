"""Which answerer runs, and its state: the embedded model by default, else extractive with a notice.

``RAG_CHAT_MODEL`` unset (``auto``) means: the embedded llama.cpp server with
the verified GGUF when that file is in the models directory (same name and size
as ``rag model fetch`` leaves it; the fetch checked its sha256, so it is not
re-hashed here) and the ``xllamacpp`` wheel imports; otherwise the extractive
answerer, with a notice that says which command fetches the model.
``local:/path/model.gguf`` (aliases ``embedded:`` and ``llamacpp:``) runs any
GGUF; ``local`` with no path is the default model.

``EmbeddedChat`` is the chat model for those: it starts the server (once per
process, ``rag.llm.embedded``) and then hands every call to a ``ChatOpenAI``
pointed at the server's ``/v1``, the same door as OpenAI, Ollama or vLLM.
``AnswererStatus`` says what a user should see (loading, ready, missing,
extractive) for the CLI's stderr and the app's sidebar.

It leaves out the server itself (``rag.llm.embedded``), the other providers
(``rag.llm.providers``), the HTTP client (``rag.llm.openai_chat``) and the download
(``rag.llm.fetch``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from rag.llm import embedded as embedded_llm
from rag.llm.catalogue import KNOWN_MODELS
from rag.llm.embedded import ServerConfig, State
from rag.llm.openai_chat import openai_chat

AUTO = "auto"
LOCAL_PROVIDERS = ("local", "embedded", "llamacpp")
DEFAULT_KEY = "qwen2.5-1.5b"
FETCH_COMMAND = f"make app  (or: rag model fetch {DEFAULT_KEY})"
FETCH_HINT = f"run `rag model fetch {DEFAULT_KEY}` (or `make app`), or set RAG_CHAT_MODEL=local:/path/model.gguf"


@dataclass(frozen=True)
class AnswererStatus:
    state: Literal["loading", "ready", "missing", "extractive", "failed"]
    answerer: str  # what answers, for people: "embedded Qwen2.5-Coder…", "openai:gpt-4o-mini", "extractive"
    message: str | None = None  # the one notice to show, if any

    @property
    def notice(self) -> bool:
        return self.message is not None


def default_model_path(models_dir: Path) -> Path:
    return KNOWN_MODELS[DEFAULT_KEY].path(models_dir)


def default_model_present(models_dir: Path) -> bool:
    """The verified default GGUF is in ``models_dir``: right name and size (no hashing)."""
    path = default_model_path(models_dir)
    return path.is_file() and path.stat().st_size == KNOWN_MODELS[DEFAULT_KEY].size


def missing_message(models_dir: Path) -> str:
    return (f"No local model yet ({default_model_path(models_dir).name} is not in {Path(models_dir).resolve()}), "
            f"so answers are extractive (quoted sentences). To get generated answers, run: {FETCH_COMMAND}")


def resolve_auto(options: dict[str, Any]) -> str:
    """What ``auto`` means on this machine now: ``local`` or ``extractive``."""
    models_dir = Path(options.get("models_dir") or "models")
    if default_model_present(models_dir) and embedded_llm.wheel_available():
        return "local"
    return "extractive"


def server_config(model: str, options: dict[str, Any]) -> ServerConfig:
    """The server settings for ``local:<model>`` (empty model: the default GGUF)."""
    models_dir = Path(options.get("models_dir") or "models")
    path = Path(model.strip()) if model.strip() else default_model_path(models_dir)
    return ServerConfig(
        model_path=path.expanduser().resolve(),
        threads=options.get("llama_threads"),
        ctx=int(options.get("llama_ctx") or 8192),
        parallel=int(options.get("llama_parallel") or 4),
        max_tokens=int(options.get("llama_max_tokens") or 512),
    )


def status(spec: str, options: dict[str, Any]) -> AnswererStatus:
    """What the user should be told about the answerer ``spec`` resolves to (cheap: no loading)."""
    spec = (spec or AUTO).strip()
    models_dir = Path(options.get("models_dir") or "models")
    provider, _, model = spec.partition(":")
    if spec.lower() == AUTO:
        if not embedded_llm.wheel_available():
            return AnswererStatus("extractive", "extractive", f"Answers are extractive: {embedded_llm.NO_WHEEL}.")
        if not default_model_present(models_dir):
            return AnswererStatus("missing", "extractive", missing_message(models_dir))
        provider, model = "local", ""
    if spec.lower().startswith("extractive"):
        return AnswererStatus("extractive", "extractive")
    if provider.lower() not in LOCAL_PROVIDERS:
        return AnswererStatus("ready", spec)
    config = server_config(model, options)
    name = f"embedded {config.model_path.name}"
    state, error = embedded_llm.state(config)
    if state is State.READY:
        return AnswererStatus("ready", name)
    if state is State.FAILED:
        return AnswererStatus("failed", name, error)
    return AnswererStatus("loading", name, f"Loading the local model {config.model_path.name}…")


class EmbeddedChat(BaseChatModel):
    """A GGUF model behind the embedded llama.cpp server, spoken to with ``ChatOpenAI``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    server: ServerConfig
    options: dict[str, Any]
    _client: BaseChatModel | None = PrivateAttr(None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "embedded-llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": str(self.server.model_path), "max_tokens": self.server.max_tokens}

    def client(self) -> BaseChatModel:
        """The ``ChatOpenAI`` for the running server (starting it, once, on first use)."""
        with self._lock:
            if self._client is None:
                base_url = embedded_llm.start(self.server)
                self._client = openai_chat(self.server.model_path.stem, {
                    **self.options, "base_url": f"{base_url}/v1", "api_key": "embedded",
                    "max_tokens": self.server.max_tokens,
                })
            return self._client

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        return self.client()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        yield from self.client()._stream(messages, stop=stop, run_manager=run_manager, **kwargs)


def make_embedded(model: str, options: dict[str, Any]) -> BaseChatModel:
    """The chat model for ``local:<path>``: checks the file now, loads it in the background."""
    config = server_config(model, options)
    embedded_llm.import_xllamacpp()  # the wheel first: without it no path can work
    embedded_llm.check_gguf(config.model_path, FETCH_HINT)
    embedded_llm.start_in_background(config)
    keep = {k: v for k, v in options.items() if k in ("timeout", "max_retries", "temperature")}
    return EmbeddedChat(server=config, options=keep)  # no keys or other servers' URLs
