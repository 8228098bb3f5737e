"""Cold start: ``rag ask --json`` as a fresh process over an already-built store, spawn to answer.

What it does: ``child_env`` is the environment of a child answering offline
with the run's settings (extractive, no Chroma server); ``cold_start`` runs
``rag ask`` that many times and keeps the time to the first line, the answer's
own in-process time, the exit time and the peak RSS.

What it leaves out: building the store (``scale``) and the app's start-up in a
browser (``app_start``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from rag.bench import measure
from rag.bench.results import ColdStart
from rag.bench.scale import Built
from rag.config import Settings

COLD_QUESTION = "Why did Musk leave OpenAI?"


def _rag_command() -> list[str]:
    exe = Path(sys.executable).parent / "rag"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "rag.cli.main"]


def child_env(settings: Settings) -> dict[str, str]:
    """The environment of a child process answering offline with this run's settings (no Chroma server)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHROMA_")}
    env.update(
        RAG_CHAT_MODEL="extractive", RAG_EMBEDDING_MODEL=settings.embedding_model, RAG_K=str(settings.k),
        RAG_CANDIDATES=str(settings.candidates),
    )
    if settings.embed_threads:
        env["RAG_EMBED_THREADS"] = str(settings.embed_threads)
    return env


def cold_start(settings: Settings, built: Built, runs: int, cwd: Path) -> ColdStart:
    """``rag ask --json`` as a fresh process over an already-built store: spawn to answer."""
    env = child_env(settings)
    env.update(RAG_PERSIST_DIR=str(built.store), RAG_SEEDS_DIR=str(built.corpus.directory))
    firsts: list[float] = []
    inside: list[float] = []
    exits: list[float] = []
    rss: list[float] = []
    errors: list[str] = []
    for _ in range(runs):
        child = measure.run_child([*_rag_command(), "ask", "--json", COLD_QUESTION], env, cwd=cwd)
        if child.max_rss_mb is not None:
            rss.append(child.max_rss_mb)
        if child.returncode != 0 or child.first_line_s is None:
            errors.append(f"exit {child.returncode}: {child.stderr_tail.strip()[-300:]}")
            continue
        firsts.append(child.first_line_s)
        exits.append(child.exit_s)
        try:
            inside.append(float(json.loads(child.first_line)["timings_ms"]["total"]))
        except (ValueError, KeyError):
            pass
    return ColdStart(
        scale=built.scale,
        chunks=built.index.count(),
        runs=runs,
        first_answer_s=firsts,
        median_s=measure.percentile(firsts, 50),
        in_process_answer_ms=round(measure.percentile(inside, 50) or 0, 1) if inside else None,
        exit_s=measure.percentile(exits, 50),
        peak_rss_mb=max(rss) if rss else None,
        errors=errors,
    )
