"""``ChatOpenAI`` for OpenAI or any OpenAI-compatible server: the one door every HTTP chat model uses.

The hosted OpenAI API, Ollama, vLLM, a llama.cpp server and the embedded
llama.cpp server (``rag.llm.answerer``) are all reached through it. Keys and
URLs come in ``options`` (built from settings by ``rag.factory``); nothing
here reads the environment. What it leaves out: choosing the model
(``rag.llm.providers``).
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel

from rag.errors import ConfigError


def openai_chat(model: str, options: dict[str, Any]) -> BaseChatModel:
    """``ChatOpenAI`` for OpenAI or any OpenAI-compatible server (``options["base_url"]``)."""
    from langchain_openai import ChatOpenAI

    from rag.tokens import seed_tiktoken_cache

    seed_tiktoken_cache()  # ChatOpenAI counts tokens with tiktoken
    base_url = options.get("base_url")
    key = options.get("api_key")
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
