"""No secret in any output: one redaction (``rag.redact``) on every channel, and embedding faults in one line.

A key is planted in each channel a user or a file can see: the error an
embedding server sends back during ingest (CLI and in-process), the errors of
asking when the embedder fails (401, timeout, refused connection), credentials
inside ``OPENAI_BASE_URL`` in the eval report's settings, the bench results,
and the app's error box and log. Each must come out without the key, in one line.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from openai_server import ScriptedOpenAI
from test_chroma_server import HashGramEmbeddings

from rag.config import Settings
from rag.store.embeddings import register_embeddings
from rag.errors import ModelError, RagError
from rag.factory import build_chain, open_store
from rag.ingest.run import run_ingest
from rag.redact import redact, redact_data

KEY = "sk-proj-PLANTED0123456789abcdefXYZ"
ARTICLE = "# Zephyr\n\nZephyr Robotics raised 12 million dollars from Aurora Capital in March.\n"


@pytest.mark.parametrize("text", [
    f"error: embedding failed: 401 Incorrect API key provided: Bearer {KEY}",
    f"POST https://user:{KEY}@llm.example.com/v1/embeddings",
    f"https://llm.example.com/v1?api_key={KEY}&x=1",
    f'{{"Authorization": "Bearer {KEY}"}}',
    f"headers: authorization: Basic {KEY}",
    f"x-api-key={KEY}",
    f"token: {KEY}",
    f"the key {KEY} was refused",
])
def test_redact_removes_every_shape_of_secret(text: str) -> None:
    out = redact(text)
    assert KEY not in out and "PLANTED" not in out and "***" in out


def test_redact_uses_given_and_environment_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHROMA_AUTH_TOKEN", "plain-token-value")
    assert redact("sent plain-token-value and hunter2hunter", ["hunter2hunter"]) == "sent *** and ***"
    assert redact("see https://example.com/a@b and the model openai:gpt-4o") == (
        "see https://example.com/a@b and the model openai:gpt-4o")
    assert redact_data({"a": [f"Bearer {KEY}", 3]}) == {"a": ["Bearer ***", 3]}


def _secret_free(text: str) -> None:
    assert KEY not in text and "PLANTED" not in text, text[-1500:]


def test_ingest_embedding_error_echoing_the_key_is_redacted(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zephyr.md").write_text(ARTICLE)
    with ScriptedOpenAI() as server:
        server.default = {"status": 401, "text": f"Incorrect API key provided: Bearer {KEY}"}
        settings = Settings(_env_file=None, persist_dir=tmp_path / "chroma", seeds_dir=corpus,
                            embedding_model="openai:text-embedding-3-small", openai_api_key=KEY,
                            openai_base_url=server.base_url, max_retries=0, timeout=5)
        with pytest.raises(RagError) as caught:
            run_ingest(open_store(settings), [corpus])
        _secret_free(str(caught.value) + "".join(traceback.format_exception(caught.value)))
        env = {**os.environ, "RAG_PERSIST_DIR": str(tmp_path / "cli"), "RAG_SEEDS_DIR": str(corpus),
               "RAG_EMBEDDING_MODEL": "openai:text-embedding-3-small", "OPENAI_API_KEY": KEY,
               "OPENAI_BASE_URL": server.base_url, "RAG_MAX_RETRIES": "0"}
        out = subprocess.run([sys.executable, "-m", "rag.cli.main", "ingest", str(corpus)], capture_output=True,
                             text=True, timeout=120, env=env, check=False)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
    _secret_free(out.stdout + out.stderr)
    assert out.stderr.strip().splitlines()[-1].startswith("error: embedding failed: ")


class _QueriesOverHTTP(HashGramEmbeddings):
    """Passages embedded locally; questions through the real OpenAI client, so faults are real HTTP faults."""

    def __init__(self, options: dict) -> None:
        from langchain_openai import OpenAIEmbeddings

        self.remote = OpenAIEmbeddings(model="e", api_key=options["api_key"], base_url=options["base_url"],
                                       timeout=options["timeout"], max_retries=0, check_embedding_ctx_length=False)

    def embed_query(self, text: str) -> list[float]:
        return self.remote.embed_query(text)


@pytest.fixture
def faulty_store(tmp_path: Path):
    register_embeddings("queryhttp", lambda model, options: _QueriesOverHTTP(options))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zephyr.md").write_text(ARTICLE)

    def settings(base_url: str) -> Settings:
        return Settings(_env_file=None, persist_dir=tmp_path / "chroma", seeds_dir=corpus, timeout=0.5,
                        embedding_model="queryhttp:e", openai_api_key=KEY, openai_base_url=base_url)

    assert run_ingest(open_store(settings("http://127.0.0.1:9/v1")), [corpus]).added == ["zephyr"]
    return settings


@pytest.mark.parametrize("fault, expected", [
    ({"status": 401, "text": f"bad key {KEY}"}, "rejected the API key"),
    ({"delay": 3, "text": "late"}, "did not answer in time"),
    (None, "cannot reach the model"),
])
def test_asking_when_the_embedder_fails_is_one_secret_free_line(faulty_store, fault, expected, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with ScriptedOpenAI() as server:
        server.default = fault or "unused"
        url = server.base_url if fault else "http://127.0.0.1:9/v1"  # port 9: nothing listens
        chain = build_chain(faulty_store(url))
        with pytest.raises(ModelError) as caught:
            chain.ask("How much did Zephyr raise?")
    message = str(caught.value)
    assert message.startswith("embedding failed: ") and "queryhttp:e" in message and expected in message
    assert "\n" not in message
    _secret_free(message + "".join(traceback.format_exception(caught.value)) + caplog.text)


def test_eval_report_settings_hide_credentials_in_the_base_url() -> None:
    from rag.evaluation.runner import settings_snapshot

    snap = json.dumps(settings_snapshot(Settings(
        _env_file=None, openai_api_key=KEY, openai_base_url=f"https://me:{KEY}@llm.example.com/v1")))
    _secret_free(snap)
    assert "https://***@llm.example.com/v1" in snap


def test_bench_results_are_redacted() -> None:
    from dataclasses import fields

    from rag.bench.runs import BenchResults

    values = {f.name: None for f in fields(BenchResults)}
    values.update(settings={"note": f"https://u:{KEY}@h/v1"}, scales=[], machine={"log": f"Bearer {KEY}"})
    _secret_free(BenchResults(**values).to_json())


def test_the_app_shows_an_embedding_failure_in_one_secret_free_line(faulty_store, monkeypatch, caplog) -> None:
    from streamlit.testing.v1 import AppTest

    caplog.set_level(logging.DEBUG)
    settings = faulty_store("unused")
    with ScriptedOpenAI() as server:
        server.default = {"status": 401, "text": f"Incorrect API key provided: {KEY}"}
        for name, value in (("RAG_PERSIST_DIR", settings.persist_dir), ("RAG_SEEDS_DIR", settings.seeds_dir),
                            ("RAG_EMBEDDING_MODEL", "queryhttp:e"), ("OPENAI_API_KEY", KEY),
                            ("OPENAI_BASE_URL", server.base_url), ("RAG_MAX_RETRIES", "0")):
            monkeypatch.setenv(name, str(value))
        at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120).run()
        at.chat_input[0].set_value("How much did Zephyr raise?").run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "rejected the API key" in errors[0] and "\n" not in errors[0], errors
    _secret_free(" ".join(errors) + caplog.text + json.dumps([str(m) for m in at.session_state["messages"]]))
