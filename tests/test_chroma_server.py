"""A real Chroma server (``chroma run`` from the chromadb package): ingest, answer, restart, stop.

The server is the real one; the embedder is a tiny deterministic one
registered through the same registry as real models (hashed keyword tokens),
so ingesting the seeds takes a second instead of minutes. Everything between
the settings and the answer is the production code path, switched to the
server only by ``CHROMA_HOST``/``CHROMA_PORT``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from rag.bench.server import ChromaServerProcess, port_open
from rag.config import Settings
from rag.store.embeddings import register_embeddings
from rag.factory import build_chain, chroma_server, open_store
from rag.ingest.run import run_ingest
from rag.retrieval.retrieve import Retriever
from rag.text import keyword_tokens

pytestmark = pytest.mark.server
SEEDS = Path(__file__).resolve().parent.parent / "seeds"
MODEL = "hashgrams:test"


class HashGramEmbeddings:
    """Keyword tokens (CJK bigrams, Latin words) hashed into 256 dims, L2-normalized."""

    dims = 256

    def _one(self, text: str) -> list[float]:
        v = np.zeros(self.dims, dtype=np.float32)
        v[0] = 0.05  # never a zero vector
        for tok in keyword_tokens(text):
            v[1 + int(hashlib.md5(tok.encode()).hexdigest(), 16) % (self.dims - 1)] += 1.0
        return (v / np.linalg.norm(v)).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._one(text)


@pytest.fixture(autouse=True)
def _hash_embedder() -> None:
    register_embeddings("hashgrams", lambda model, options: HashGramEmbeddings())


def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, port: int) -> Settings:
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(port))
    return Settings(
        _env_file=None, persist_dir=tmp_path / "local", seeds_dir=SEEDS, embedding_model=MODEL,
        min_relevance_en=-1.0, min_relevance_zh=-1.0,
    )


def _cited_from_own_passages(answer) -> bool:
    chunks = {p.n: p.chunk_id for p in answer.passages}
    return bool(answer.citations) and all(chunks.get(c.n) == c.chunk_id for c in answer.citations)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_seeds_through_a_chroma_server_answer_and_survive_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ChromaServerProcess(tmp_path / "server-data")
    with server:
        settings = _settings(tmp_path, monkeypatch, server.port)
        assert chroma_server(settings) is not None and settings.chroma_port == server.port

        index = open_store(settings)
        report = run_ingest(index, [SEEDS])
        assert sorted(report.added) == sorted(p.stem for p in SEEDS.iterdir()) and not report.errors
        chunks, sentences = index.count(), index.sentences.count()
        assert chunks > 0 and sentences > chunks
        assert not list((tmp_path / "local").glob("*.sqlite3")), "data went to a local store, not the server"

        answer = build_chain(settings, index).ask("马斯克为什么离开OpenAI？")
        assert not answer.refused and _cited_from_own_passages(answer)

        first_pid = server.pid
        assert first_pid is not None
        server.restart()
        assert _gone(first_pid) and server.pid != first_pid

        reopened = open_store(settings)  # a new HttpClient against the restarted server
        assert (reopened.count(), reopened.sentences.count()) == (chunks, sentences)
        rebuilt = Retriever.build(reopened)  # BM25 rebuilt from what the server holds
        assert len(rebuilt.keywords) == chunks and rebuilt.keywords.search("马斯克 特斯拉", 3)
        again = build_chain(settings).ask("马斯克为什么离开OpenAI？")
        assert not again.refused and _cited_from_own_passages(again)
        assert {c.chunk_id for c in again.citations} == {c.chunk_id for c in answer.citations}
        last_pid = server.pid
        assert last_pid is not None
    assert _gone(last_pid) and not port_open(server.port), "the server outlived its stop"


def test_filters_apply_inside_retrieval_on_a_chroma_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outlet, date-range and language filters are Chroma ``where`` clauses, so the server applies them."""
    import datetime as dt

    from rag.retrieval.filters import NO_MATCH, Filters

    server = ChromaServerProcess(tmp_path / "server-data")
    with server:
        settings = _settings(tmp_path, monkeypatch, server.port)
        index = open_store(settings)
        assert not run_ingest(index, [SEEDS]).errors
        chain = build_chain(settings, index)
        jiemian = chain.ask("Why did Musk leave OpenAI?", filters=Filters(outlet=["界面新闻"]))
        assert jiemian.passages and {p.outlet for p in jiemian.passages} == {"界面新闻"}
        assert _cited_from_own_passages(jiemian) and {c.outlet for c in jiemian.citations} == {"界面新闻"}
        recent = chain.retriever.retrieve("OpenAI 马斯克", 10, filters=Filters(since=dt.date(2024, 1, 1)))
        assert recent.passages and {p.published for p in recent.passages} == {"2024-05-24"}
        english = chain.retriever.retrieve("马斯克 OpenAI", 10, filters=Filters(lang="en"))
        assert english.passages and {p.language for p in english.passages} == {"en"}
        none = chain.ask("马斯克为什么离开OpenAI？", filters=Filters(outlet=["界面新闻"], until=dt.date(2020, 1, 1)))
        assert none.refused and none.answer == NO_MATCH["zh"] and not none.passages
    assert not port_open(server.port)


def test_bench_runs_its_query_benchmark_against_a_server_it_starts(tmp_path: Path) -> None:
    from rag.bench.runs import BenchOptions, run_bench

    settings = Settings(_env_file=None, seeds_dir=SEEDS, embedding_model=MODEL)
    options = BenchOptions(
        scales=[0.05], questions=4, chroma_server=True, load_questions=0, cold_starts=0, app_starts=0,
        work_dir=tmp_path / "work",
    )
    results = json.loads(run_bench(settings, options).to_json())
    scale = results["scales"][0]
    assert scale["server"]["port"] > 0 and scale["server"]["rows_per_s"] > 0
    assert {"server_hybrid", "server_naive_langchain"} <= set(scale["query"]["systems"])
    assert scale["query"]["systems"]["server_hybrid"]["latency_ms"]["n"] == 4
    assert results["memory"]["chroma_server_peak_rss_mb"] > 0
    assert not port_open(scale["server"]["port"])
