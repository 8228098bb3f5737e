"""The ``rag`` command as a user runs it: a real subprocess, network blocked inside it too."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def rag(*args: str, env: dict | None = None, stdin: str | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "rag.cli.main", *args],
        input=stdin, capture_output=True, text=True, timeout=300,
        env={**os.environ, **(env or {})}, cwd=cwd,
    )


@pytest.fixture
def env(index_dir: Path) -> dict:
    return {"RAG_PERSIST_DIR": str(index_dir), "RAG_SEEDS_DIR": str(ROOT / "seeds")}


def test_ask_json_answers_both_example_questions_with_the_right_article(env: dict) -> None:
    out = rag("ask", "--json", "-", env=env, stdin="Why did Musk leave OpenAI?\n马斯克为什么离开OpenAI？\n")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["language"] for r in rows] == ["en", "zh"]
    for row in rows:
        assert not row["refused"] and row["citations"]
        assert "002_cf0a488ea6d0060a" in {c["doc_id"] for c in row["passages"]}
        assert set(row) >= {"question", "answer", "refused", "language", "citations", "passages", "model",
                            "embedding_model", "timings_ms", "usage"}
        c = row["citations"][0]
        assert set(c) >= {"n", "doc_id", "chunk_id", "title", "published", "url", "quote", "span"}
    assert "002_cf0a488ea6d0060a" in {c["doc_id"] for c in rows[1]["citations"]}


def test_ask_prints_sources(env: dict) -> None:
    out = rag("ask", "-k", "3", "微软持有OpenAI多少股份？", env=env)
    assert out.returncode == 0 and "Sources:" in out.stdout and "[1]" in out.stdout


def test_ask_builds_the_index_on_first_use(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(ROOT / "seeds" / "004_8dfb9935f69a8e59.txt", seeds)
    out = rag("ask", "--json", "马斯克出价多少收购OpenAI？",
              env={"RAG_PERSIST_DIR": str(tmp_path / "c"), "RAG_SEEDS_DIR": str(seeds)})
    assert out.returncode == 0, out.stderr
    assert "ingesting" in out.stderr.lower() and json.loads(out.stdout)["citations"]


def test_reingest_reports_nothing_changed(env: dict) -> None:
    stamp = Path(env["RAG_PERSIST_DIR"]) / "last_ingest.json"
    stamp.unlink()
    out = rag("ingest", env=env)
    assert out.returncode == 0, out.stderr
    assert "added 0, updated 0, removed 0, unchanged 5" in out.stdout and "embedded 0 chunks" in out.stdout
    recorded = json.loads(stamp.read_text(encoding="utf-8"))  # what the app's sidebar shows as "Last ingest"
    assert recorded["summary"] in out.stdout and recorded["time"][:2] == "20"


@pytest.mark.parametrize(
    "args, extra_env, message",
    [
        (["ask", "  "], {}, "question is empty"),
        (["ask", "x" * 10_001], {}, "limit is 10,000"),
        (["ask", "hi"], {"RAG_CHAT_MODEL": "nosuch:model"}, "unknown chat model"),
        (["ask", "hi"], {"RAG_CHAT_MODEL": "openai:gpt-4o-mini"}, "OPENAI_API_KEY is not set"),
        (["ask", "hi"], {"RAG_EMBEDDING_MODEL": "nosuch:x"}, "unknown embedding provider"),
        (["ingest"], {"RAG_SEEDS_DIR": "/nonexistent/seeds"}, "does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_index_intact(env: dict, args, extra_env, message) -> None:
    out = rag(*args, env={**env, **extra_env})
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().startswith("error:") and message in out.stderr
    assert "Traceback" not in out.stderr
    check = rag("ingest", env=env)
    assert "unchanged 5" in check.stdout


def test_ingest_of_a_binary_file_is_rejected_and_nothing_lost(env: dict, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\xff" * 64)
    out = rag("ingest", str(bad), env=env)
    assert out.returncode == 2 and "bad.txt: looks like a binary file" in out.stderr
    assert "unchanged 5" in rag("ingest", env=env).stdout


def test_chat_keeps_the_conversation(env: dict) -> None:
    out = rag("chat", env=env, stdin="马斯克出价多少收购OpenAI？\n奥特曼怎么回应他？\n/quit\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("Sources:") == 2
