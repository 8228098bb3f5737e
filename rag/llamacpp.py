"""``RAG_CHAT_MODEL=llamacpp:/path/model.gguf``: a GGUF chat model run in-process by llama.cpp.

A LangChain ``BaseChatModel`` around ``llama_cpp.Llama.create_chat_completion``,
so the chain, prompts and citation checks are the same as for any other model,
streaming included. The chat template comes from the GGUF file itself.

- Each file is loaded once per process (per path, context size and thread
  count) into a module-level cache guarded by a lock; every chat model built
  for that file shares it.
- llama.cpp is not re-entrant: calls on one loaded model are serialised by its
  own lock. A caller waits at most ``timeout`` seconds for its turn, then gets a
  timeout error (the chain turns it into "did not answer in time"); a
  generation itself is bounded by ``max_tokens``.
- Usage: llama.cpp reports token counts for a whole reply; for a stream it
  reports none, so the adapter counts them from the model's context (prompt =
  tokens in context minus the reply's tokens).
- OpenMP waits passively (``OMP_WAIT_POLICY=PASSIVE`` unless set): with spinning
  waits, decoding on a 2-core machine shared with other work drops 3–4×.
- Nothing is ever downloaded: the path must point at a local GGUF file
  (``rag model fetch qwen2.5-1.5b`` puts a verified one in ``models/``).
  A missing library, a missing file or a non-GGUF file is a ``ConfigError``
  that names the fix.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

from rag.errors import ConfigError

INSTALL_HINT = (
    "the local model needs llama-cpp-python, which is not installed: run  pip install -e '.[local]'  "
    "(it compiles llama.cpp from source, about 7–8 minutes on 2 cores), or set RAG_CHAT_MODEL=extractive"
)
FETCH_HINT = "run `rag model fetch qwen2.5-1.5b` and use the RAG_CHAT_MODEL line it prints"
GGUF_MAGIC = b"GGUF"


class TimeoutException(TimeoutError):
    """Waited ``timeout`` seconds for another request to finish with the model (name read by ``model_error``)."""


class ContextTooLong(ValueError):
    """The prompt does not fit the context window (class name shown by ``model_error``)."""


def _context_error(exc: ValueError, n_ctx: int) -> Exception:
    if "context window" in str(exc):
        return ContextTooLong(f"{exc}: raise RAG_LLAMA_CTX (now {n_ctx}) or lower RAG_K")
    return exc


@dataclass
class _Loaded:
    llama: Any
    lock: threading.Lock = field(default_factory=threading.Lock)


_CACHE: dict[tuple, _Loaded] = {}
_CACHE_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget every loaded model (tests; frees memory once no chat model refers to it)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _import_llama_cpp() -> Any:
    # llama.cpp's OpenMP threads spin while waiting by default; when another process
    # wants a core (a busy 2-core machine) decoding collapses from ~5 to ~1 token/s.
    # Sleeping waits cost nothing measurable on an idle machine. Read once, when
    # libgomp loads, so it is set before the import; an explicit setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import llama_cpp
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    if not hasattr(llama_cpp, "Llama"):
        raise ConfigError(INSTALL_HINT)
    return llama_cpp


def check_gguf(model_path: str) -> Path:
    """The absolute path of a readable GGUF file, else a ``ConfigError`` naming the fix."""
    if not model_path.strip():
        raise ConfigError(f"RAG_CHAT_MODEL=llamacpp: needs a path to a .gguf file; {FETCH_HINT}")
    path = Path(model_path.strip()).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"the model file {path} does not exist; {FETCH_HINT}")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise ConfigError(f"cannot read the model file {path}: {exc.strerror or exc}") from None
    if magic != GGUF_MAGIC:
        raise ConfigError(f"{path} is not a GGUF model file (llama.cpp needs .gguf); {FETCH_HINT}")
    return path


def _threads(n: int | None) -> int:
    return max(1, n or os.cpu_count() or 1)  # llama-cpp-python's own default is half the cores


def load(model_path: str, n_ctx: int = 4096, n_threads: int | None = None) -> _Loaded:
    """The loaded model for this file and settings, loading it on first use (once per process)."""
    llama_cpp = _import_llama_cpp()
    path = check_gguf(model_path)
    threads = _threads(n_threads)
    key = (id(llama_cpp.Llama), str(path), n_ctx, threads)
    with _CACHE_LOCK:
        loaded = _CACHE.get(key)
        if loaded is None:
            try:
                llama = llama_cpp.Llama(
                    model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                    verbose=False,
                )
            except Exception as exc:  # llama.cpp says "Failed to load model from file"
                raise ConfigError(
                    f"llama.cpp could not load {path} ({type(exc).__name__}: {exc}); is it a complete GGUF "
                    f"chat model? {FETCH_HINT}"
                ) from None
            loaded = _CACHE[key] = _Loaded(llama)
        return loaded


def _content(message: BaseMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    return "".join(
        part if isinstance(part, str) else str(part.get("text", ""))
        for part in message.content
        if isinstance(part, str) or part.get("type") == "text"
    )


def to_llama_messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages as OpenAI-style role/content dicts for the GGUF chat template."""
    out = []
    for m in messages:
        if isinstance(m, SystemMessage):
            role = "system"
        elif isinstance(m, HumanMessage):
            role = "user"
        elif isinstance(m, AIMessage):
            role = "assistant"
        elif isinstance(m, ToolMessage):
            role = "tool"
        elif isinstance(m, ChatMessage):
            role = m.role
        else:
            role = "user"
        out.append({"role": role, "content": _content(m)})
    return out


def _usage(prompt: int, completion: int) -> UsageMetadata:
    return UsageMetadata(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)


class LlamaCppChat(BaseChatModel):
    """A local GGUF chat model; build it with ``make_chat_model``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 4096
    n_threads: int | None = None
    max_tokens: int = 512
    temperature: float = 0.0
    timeout: float = 60.0

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "max_tokens": self.max_tokens,
                "temperature": self.temperature}

    def _model(self) -> _Loaded:
        return load(self.model_path, self.n_ctx, self.n_threads)

    def _acquire(self, loaded: _Loaded) -> None:
        if not loaded.lock.acquire(timeout=max(self.timeout, 0.001)):
            raise TimeoutException(
                f"the local model was busy with another request for {self.timeout:.0f} s"
            )

    def _params(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {"max_tokens": self.max_tokens, "temperature": self.temperature}
        if stop:
            params["stop"] = stop
        params.update({k: v for k, v in kwargs.items() if k in ("max_tokens", "temperature", "top_p", "seed")})
        return params

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        loaded = self._model()
        self._acquire(loaded)
        try:
            reply = loaded.llama.create_chat_completion(
                messages=to_llama_messages(messages), stream=False, **self._params(stop, kwargs)
            )
        except ValueError as exc:
            raise _context_error(exc, self.n_ctx) from exc
        finally:
            loaded.lock.release()
        choice = reply["choices"][0]
        text = (choice.get("message") or {}).get("content") or ""
        usage = reply.get("usage") or {}
        message = AIMessage(
            content=text,
            usage_metadata=_usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0))
            if usage
            else None,
            response_metadata={"finish_reason": choice.get("finish_reason"), "model_name": self.model_path},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        loaded = self._model()
        self._acquire(loaded)
        try:
            llama = loaded.llama
            params = self._params(stop, kwargs)
            parts: list[str] = []
            finish: str | None = None
            try:
                stream = iter(llama.create_chat_completion(
                    messages=to_llama_messages(messages), stream=True, **params
                ))
                first = next(stream, None)  # llama.cpp evaluates the prompt here
            except ValueError as exc:
                raise _context_error(exc, self.n_ctx) from exc
            for chunk in itertools.chain([first] if first is not None else [], stream):
                choice = (chunk.get("choices") or [{}])[0]
                finish = choice.get("finish_reason") or finish
                text = (choice.get("delta") or {}).get("content") or ""
                if not text:
                    continue
                parts.append(text)
                out = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager:
                    run_manager.on_llm_new_token(text, chunk=out)
                yield out
            usage = self._stream_usage(llama, "".join(parts), finish, params["max_tokens"])
        finally:
            loaded.lock.release()
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="", usage_metadata=usage,
                response_metadata={"finish_reason": finish, "model_name": self.model_path},
            )
        )

    @staticmethod
    def _stream_usage(llama: Any, text: str, finish: str | None, max_tokens: int) -> UsageMetadata | None:
        """Token counts for a streamed reply, from the model's context (llama.cpp streams none)."""
        try:
            in_context = int(llama.n_tokens)
            if finish == "length":
                completion = max_tokens  # the last sampled token is never fed back into the context
                prompt = in_context - completion + 1
            else:
                completion = len(llama.tokenize(text.encode("utf-8"), add_bos=False)) if text else 0
                prompt = in_context - completion
        except Exception:
            return None
        if prompt <= 0 or completion < 0:
            return None
        return _usage(prompt, completion)


def make_chat_model(model_path: str, options: dict[str, Any]) -> BaseChatModel:
    """The chat model for ``RAG_CHAT_MODEL=llamacpp:<model_path>``; loads the file now (once per process)."""
    _import_llama_cpp()  # the install hint comes first: without the library no path can work
    chat = LlamaCppChat(
        model_path=str(check_gguf(model_path)),
        n_ctx=int(options.get("llama_ctx") or 4096),
        n_threads=options.get("llama_threads"),
        max_tokens=int(options.get("llama_max_tokens") or 512),
        temperature=float(options.get("temperature") or 0.0),
        timeout=float(options.get("timeout") or 60.0),
    )
    chat._model()  # fail now, with the fix named, rather than at the first question
    return chat
