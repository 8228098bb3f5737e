"""What comes back from a model call: token usage, why it stopped, and a stream that broke off.

Shared by both ways an LLM writes an answer (``rag.answer.synthesis``,
``rag.answer.restate``). What it leaves out: the calls themselves, and the
one-line wording of a failure (``rag.llm.failures``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig

from rag.answer.cite import CitedText
from rag.llm.failures import model_error
from rag.models import Answer, Evidence, Usage


def usage(message: Any) -> Usage | None:
    """The token counts a reply carries, if its server reported them."""
    meta = getattr(message, "usage_metadata", None)
    if not meta:
        return None
    return Usage(
        input_tokens=meta.get("input_tokens", 0),
        output_tokens=meta.get("output_tokens", 0),
        total_tokens=meta.get("total_tokens", 0),
    )


def total_usage(messages: Sequence[Any]) -> Usage | None:
    """The counts of several calls, summed (None when no call reported any)."""
    parts = [u for u in (usage(m) for m in messages) if u is not None]
    if not parts:
        return None
    return Usage(input_tokens=sum(u.input_tokens for u in parts), output_tokens=sum(u.output_tokens for u in parts),
                 total_tokens=sum(u.total_tokens for u in parts))


def finish_reason(message: Any) -> str | None:
    """Why the server stopped ("stop", "length", …), under whichever key it uses."""
    meta = getattr(message, "response_metadata", None) or {}
    return next((meta[k] for k in ("finish_reason", "stop_reason", "done_reason") if meta.get(k)), None)


def broke_off(answer: Answer, exc: Exception, had_text: bool, model: str, secrets: Sequence[str | None]) -> None:
    """A model failure: a one-line ``ModelError`` if nothing came yet, else the answer so far, marked incomplete."""
    error = model_error(exc, model, secrets)
    if not had_text:
        raise error from None
    answer.incomplete = True
    answer.notice = f"incomplete: {error}"


@dataclass(frozen=True)
class Writer:
    """What both ways of writing need besides the prompt: the model's name and secrets (for
    failure messages) and the citation check (``rag.answer.cite.build_citations`` over the
    retriever's embedder)."""

    model: str
    secrets: tuple[str | None, ...]
    cite: Callable[[str, Evidence], CitedText]
    config: RunnableConfig | None = None  # callbacks of the chain run, passed to every model call

    def broke_off(self, answer: Answer, exc: Exception, had_text: bool) -> None:
        broke_off(answer, exc, had_text, self.model, self.secrets)
