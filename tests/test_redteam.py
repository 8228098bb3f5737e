"""Red team: bad-input classes across CLI, ingest, app upload, settings and model faults.

Each class runs once against one shared copy of the seeds index and asserts its
one-line ``error:`` (exit 2) or its correct result. After every class the index
must still answer "Why did Musk leave OpenAI?" citing article 002 or 004, and
no article may be lost. Every output (stdout, stderr, exception text, error
lines) is scanned for the planted API key and for tracebacks. The tally
(classes, hangs, tracebacks, secrets leaked, articles lost) is written to
``test-artifacts/redteam.json``; the README's Reliability section quotes it.
The classes live in ``redteam_cases.py`` and ``redteam_files.py``; this file runs and counts them.
CLI classes run in-process through click's ``CliRunner`` (the real ``main``);
model faults use the scripted OpenAI-compatible server over real HTTP.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redteam_files  # noqa: F401 - registers the file and model classes
from redteam_cases import CASES, KEY, Context

from rag.config import Settings
from rag.factory import build_chain, open_store

HEADLINE = "Why did Musk leave OpenAI?"
SOURCES = {"002_cf0a488ea6d0060a", "004_8dfb9935f69a8e59"}
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
HANG_SECONDS = 90
TALLY = {"classes": 0, "passed": 0, "hangs": 0, "tracebacks": 0, "secrets_leaked": 0, "articles_lost": 0}


@pytest.fixture(scope="module")
def ctx(seeds_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    root = tmp_path_factory.mktemp("redteam")
    persist = root / "chroma"
    shutil.copytree(seeds_index_dir, persist)
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    settings = Settings(_env_file=None, persist_dir=persist, seeds_dir=seeds)
    index = open_store(settings)
    context = Context(root=root, persist=persist, seeds=seeds, index=index, chain=build_chain(settings, index),
                      chunks={d.doc_id: d.chunks for d in index.documents()})
    with pytest.MonkeyPatch.context() as mp:
        for name, value in context.env().items():
            mp.setenv(name, value)
        yield context
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "redteam.json").write_text(json.dumps(TALLY, indent=1) + "\n", encoding="utf-8")


def _run(case, ctx: Context) -> tuple[str, BaseException | None]:
    """Run one class in a thread, so a hang is counted (and reported) instead of blocking the suite."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["out"] = case(ctx) or ""
        except BaseException as exc:  # noqa: BLE001 - reported below
            box["exc"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG_SECONDS)
    if thread.is_alive():
        TALLY["hangs"] += 1
        pytest.fail(f"hung for over {HANG_SECONDS} s")
    return str(box.get("out", "")), box.get("exc")  # type: ignore[return-value]


def _headline_holds(ctx: Context) -> None:
    answer = ctx.chain.ask(HEADLINE)
    cited = {c.doc_id for c in answer.citations}
    lost = [d for d, n in ctx.chunks.items() if n and d not in {x.doc_id for x in ctx.index.documents()}]
    TALLY["articles_lost"] += len(lost)
    assert not lost, f"articles lost: {lost}"
    assert not answer.refused and cited & SOURCES, (answer.answer, cited)


@pytest.mark.parametrize("case", CASES, ids=[c.__name__.removeprefix("case_") for c in CASES])
def test_bad_input_class(case, ctx: Context) -> None:
    TALLY["classes"] += 1
    ctx.outputs.clear()
    out, exc = _run(case, ctx)
    seen = out + "\n".join(ctx.outputs) + (repr(exc) if exc else "")
    if "Traceback (most recent call last)" in seen:
        TALLY["tracebacks"] += 1
    if KEY in seen:
        TALLY["secrets_leaked"] += 1
    assert "Traceback (most recent call last)" not in seen, seen[-2000:]
    assert KEY not in seen, "the planted key leaked"
    if exc is not None:
        raise exc
    _headline_holds(ctx)
    TALLY["passed"] += 1


def test_at_least_sixty_classes() -> None:
    assert len(CASES) >= 60
