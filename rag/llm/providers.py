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
Errors name the fix.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel

from rag.llm.answerer import AUTO, LOCAL_PROVIDERS, resolve_auto
from rag.errors import ConfigError

EXTRACTIVE = "extractive"
ChatFactory = Callable[[str, dict[str, Any]], BaseChatModel]
_REGISTRY: dict[str, ChatFactory] = {}


def register_chat_model(provider: str, factory: ChatFactory) -> None:
    """Make ``provider:<model>`` resolve through ``factory(model, options)``."""
    _REGISTRY[provider] = factory


def unregister_chat_model(provider: str) -> None:
    _REGISTRY.pop(provider, None)


def openai_chat(model: str, options: dict[str, Any]) -> BaseChatModel:
    """``ChatOpenAI`` for OpenAI or any OpenAI-compatible server (``options["base_url"]``)."""
    from langchain_openai import ChatOpenAI

    from rag.tokens import seed_tiktoken_cache

    seed_tiktoken_cache()  # ChatOpenAI counts tokens with tiktoken
    base_url = options.get("base_url") or os.environ.get("OPENAI_BASE_URL")
    key = options.get("api_key") or os.environ.get("OPENAI_API_KEY")
    if not key and not base_url:
        raise ConfigError(
            "OPENAI_API_KEY is not set: add it to .env (see .env.example), "
            "or set RAG_CHAT_MODEL=extractive for the offline answerer"
        )
    return ChatOpenAI(
        model=model,
        api_key=key or "not-needed",  # local OpenAI-compatible servers ignore it
        base_url=base_url,
        timeout=options.get("timeout", 60),
        max_retries=options.get("max_retries", 2),
        temperature=options.get("temperature", 0.0),
        frequency_penalty=options.get("frequency_penalty", 0.0),
        max_tokens=options.get("max_tokens"),
        stream_usage=True,
    )


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


def _local(model: str, options: dict[str, Any]) -> BaseChatModel:
    from rag.llm.answerer import make_embedded  # imports xllamacpp only when asked for

    return make_embedded(model, options)


register_chat_model("openai", openai_chat)
for _provider in LOCAL_PROVIDERS:
    register_chat_model(_provider, _local)


def resolve_chat_model(spec: str, **options: Any) -> BaseChatModel | None:
    """``"extractive"`` → None; ``"openai:gpt-4o-mini"`` → a chat model; else a clear error."""
    spec = spec.strip() or AUTO
    if spec.lower() == AUTO:
        spec = resolve_auto(options)
    if spec.lower() in (EXTRACTIVE, f"{EXTRACTIVE}:default"):
        return None
    provider, sep, model = spec.partition(":")
    provider = provider.lower()
    base_url = options.get("base_url") or os.environ.get("OPENAI_BASE_URL")
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
