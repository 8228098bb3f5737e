"""Resolve ``RAG_CHAT_MODEL`` to an answerer: None (offline extractive) or a chat model.

One registry maps a provider name to a factory. Built in: ``extractive`` (no
model), ``auto`` (the default: the embedded model when its file is here, else
extractive; see ``rag.llm.answerer``), ``openai`` (ChatOpenAI, also any
OpenAI-compatible server through ``base_url``), ``local:/path/model.gguf``
(aliases ``embedded:``, ``llamacpp:``; the embedded llama.cpp server, reached
through the same ChatOpenAI), and every other provider ``init_chat_model``
knows, as long as its integration package is installed. A bare model name
(``qwen2.5:7b``) goes to the OpenAI-compatible server at ``OPENAI_BASE_URL``.
Tests register scripted models here, so the code under test never knows.
Errors name the fix. Keys and URLs come in the options (from settings, through
``rag.factory``); nothing here reads the environment. What it leaves out: the
HTTP client (``rag.llm.openai_chat``) and the embedded server (``rag.llm.answerer``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel

from rag.errors import ConfigError
from rag.llm.answerer import AUTO, LOCAL_PROVIDERS, make_embedded, resolve_auto
from rag.llm.openai_chat import openai_chat

EXTRACTIVE = "extractive"
ChatFactory = Callable[[str, dict[str, Any]], BaseChatModel]
_REGISTRY: dict[str, ChatFactory] = {}


def register_chat_model(provider: str, factory: ChatFactory) -> None:
    """Make ``provider:<model>`` resolve through ``factory(model, options)``."""
    _REGISTRY[provider] = factory


def unregister_chat_model(provider: str) -> None:
    _REGISTRY.pop(provider, None)


def _langchain(provider: str) -> ChatFactory:
    def factory(model: str, options: dict[str, Any]) -> BaseChatModel:
        from langchain.chat_models import init_chat_model

        try:
            return init_chat_model(
                model,
                model_provider=provider,
                timeout=options.get("timeout", 60),
                max_retries=options.get("max_retries", 2),
                temperature=options.get("temperature", 0.0),
            )
        except ImportError as exc:
            raise ConfigError(f"provider {provider!r} needs its package: {exc}") from exc
        except ValueError as exc:
            raise ConfigError(
                f"unknown chat model provider {provider!r} in RAG_CHAT_MODEL; use e.g. "
                "openai:gpt-4o-mini, a model name with OPENAI_BASE_URL set, or extractive"
            ) from exc
        except Exception as exc:  # e.g. a provider's client refusing to start without its key
            raise ConfigError(f"cannot start {provider}:{model}: {type(exc).__name__}; check its API key") from exc

    return factory


register_chat_model("openai", openai_chat)
for _provider in LOCAL_PROVIDERS:
    register_chat_model(_provider, make_embedded)  # imports xllamacpp only when asked for


def resolve_chat_model(spec: str, **options: Any) -> BaseChatModel | None:
    """``"extractive"`` → None; ``"openai:gpt-4o-mini"`` → a chat model; else a clear error."""
    spec = spec.strip() or AUTO
    if spec.lower() == AUTO:
        spec = resolve_auto(options)
    if spec.lower() in (EXTRACTIVE, f"{EXTRACTIVE}:default"):
        return None
    provider, sep, model = spec.partition(":")
    provider = provider.lower()
    base_url = options.get("base_url")
    if provider in LOCAL_PROVIDERS and not sep:
        return _REGISTRY[provider]("", options)  # `local` alone: the default model
    if provider in _REGISTRY and sep:
        return _REGISTRY[provider](model, options)
    if base_url and (not sep or provider not in _KNOWN_LANGCHAIN):
        return openai_chat(spec, options)  # a name served by an OpenAI-compatible server
    if sep and provider in _KNOWN_LANGCHAIN:
        return _langchain(provider)(model, options)
    raise ConfigError(
        f"unknown chat model {spec!r} in RAG_CHAT_MODEL; use 'auto', 'extractive', 'local:/path/model.gguf', "
        "'openai:gpt-4o-mini', "
        "another provider:model, or set OPENAI_BASE_URL to serve a bare model name"
    )


# Providers init_chat_model can build when their package is installed.
_KNOWN_LANGCHAIN = frozenset(
    "anthropic azure_openai azure_ai bedrock bedrock_converse cohere deepseek fireworks google_genai "
    "google_vertexai groq huggingface ibm mistralai nvidia ollama openrouter perplexity together xai".split()
)
