"""`rag model speed`: first-token latency and decode rate of the configured chat model.

Asks a handful of questions (English and Chinese by default) through the same
chain the app uses, streaming, and reports per question: seconds to the first
answer text (retrieval + prompt processing, what a user waits for), prompt and
reply tokens (the model's own usage), and reply tokens per second after the
first one. A first, unrecorded question (not one of those measured: llama.cpp
reuses the cached prompt of an identical question) warms the model and embedder.
Prints one line per question and the medians; ``--json`` prints the rows.

It leaves out answer quality (that is `rag eval`) and load time of the model
file (it is loaded once, before the first question, when the chain is built).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import click

from rag.models import Answer
from rag.prompts import FALLBACK_NOTICE

if TYPE_CHECKING:
    from rag.chain import RagChain

DEFAULT_QUESTIONS = (
    "Why did Musk leave OpenAI?",
    "马斯克为什么离开OpenAI？",
    "How much did Musk offer to buy OpenAI?",
    "马斯克出价多少收购OpenAI？",
    "Why do Meta and xAI want to work with Character.ai?",
    "Meta和xAI为什么想与Character.ai合作？",
)
WARMUP_QUESTION = "What did Sam Altman say about Elon Musk?"


@dataclass
class SpeedRow:
    question: str
    first_token_s: float | None  # None when the chain refused without calling the model
    total_s: float
    prompt_tokens: int | None
    reply_tokens: int | None
    tokens_per_s: float | None  # (reply tokens - 1) / (last text - first text)
    refused: bool
    cited: bool  # the model's own [n] markers survived (no extractive fallback)


def measure(chain: RagChain, question: str) -> SpeedRow:
    """Stream one answer and time it."""
    start = time.perf_counter()
    first = last = None
    answer: Answer | None = None
    for item in chain.stream(question):
        now = time.perf_counter()
        if isinstance(item, Answer):
            answer = item
        elif item:
            first = first if first is not None else now
            last = now
    assert answer is not None
    total = time.perf_counter() - start
    usage = answer.usage
    rate = None
    if usage and usage.output_tokens > 1 and first is not None and last is not None and last > first:
        rate = (usage.output_tokens - 1) / (last - first)
    called = usage is not None
    return SpeedRow(
        question=question,
        first_token_s=(first - start) if (first is not None and called) else None,
        total_s=total,
        prompt_tokens=usage.input_tokens if usage else None,
        reply_tokens=usage.output_tokens if usage else None,
        tokens_per_s=rate,
        refused=answer.refused,
        cited=bool(answer.citations) and not any(n in (answer.notice or "") for n in FALLBACK_NOTICE.values()),
    )


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _fmt(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{value:.1f} {unit}"


@click.command("speed")
@click.argument("questions", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON lines.")
@click.option("--no-warmup", is_flag=True, help="Record the first question too (model and embedder cold).")
def speed_command(questions: tuple[str, ...], as_json: bool, no_warmup: bool) -> None:
    """First-token latency and tokens/s of RAG_CHAT_MODEL, over a few EN and ZH questions.

    \b
    Examples:
      RAG_CHAT_MODEL=llamacpp:$PWD/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf rag model speed
      RAG_LLAMA_THREADS=1 rag model speed "Why did Musk leave OpenAI?"
    """
    from rag.cli import _settings
    from rag.factory import build_chain, ensure_ingested, open_store

    settings = _settings()
    index = open_store(settings)
    ensure_ingested(index, settings)
    t0 = time.perf_counter()
    chain = build_chain(settings, index)
    click.echo(f"model {settings.chat_model}: chain built (model loaded) in {time.perf_counter() - t0:.1f} s",
               err=True)
    asked = list(questions or DEFAULT_QUESTIONS)
    if not no_warmup:
        measure(chain, WARMUP_QUESTION)
    rows = [measure(chain, q) for q in asked]
    for row in rows:
        if as_json:
            click.echo(json.dumps(asdict(row), ensure_ascii=False))
        else:
            click.echo(f"first text {_fmt(row.first_token_s, 's'):>8} · {_fmt(row.tokens_per_s, 'tok/s'):>11} · "
                       f"prompt {row.prompt_tokens or '—'} · reply {row.reply_tokens or '—'} · total "
                       f"{row.total_s:.1f} s · {'refused' if row.refused else 'cited' if row.cited else 'fallback'}"
                       f" · {row.question}")
    click.echo(f"median: first text {_fmt(_median([r.first_token_s for r in rows]), 's')}, "
               f"{_fmt(_median([r.tokens_per_s for r in rows]), 'tok/s')} over {len(rows)} questions", err=True)
