"""``rag bench`` at a tiny scale: the synthetic corpus, the results file's shape, a re-ingest that embeds nothing.

No wall-clock time is asserted: benchmarks report times, tests check behaviour.
"""

from __future__ import annotations

import json
from pathlib import Path

from chromadb.api.shared_system_client import SharedSystemClient
from click.testing import CliRunner

from rag.bench.command import bench_command
from rag.bench.measure import growth, percentile
from rag.bench.synthetic import make_corpus, read_seeds, relevant_docs

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def test_synthetic_corpus_is_deterministic_new_ids_made_of_seed_sentences(tmp_path: Path) -> None:
    a = make_corpus(SEEDS, tmp_path / "a", 3)
    b = make_corpus(SEEDS, tmp_path / "b", 3)
    files_a = sorted(p.name for p in a.directory.iterdir())
    assert files_a == sorted(p.name for p in b.directory.iterdir())
    assert all((a.directory / n).read_bytes() == (b.directory / n).read_bytes() for n in files_a)
    assert sorted(a.seed_docs) == sorted(p.stem for p in SEEDS.iterdir()) and a.synthetic_docs
    assert not set(a.synthetic_docs) & set(a.seed_docs)
    seed_chars = sum(d.chars for d in read_seeds(SEEDS))
    assert 2.5 * seed_chars < a.chars < 3.6 * seed_chars
    sentences = {s for d in read_seeds(SEEDS) for s in d.sentences}
    body = (a.directory / f"{a.synthetic_docs[0]}.md").read_text().split("---\n", 2)[2]
    first_line = next(line for line in body.splitlines() if line.strip())
    assert any(first_line.startswith(s) for s in sentences)
    tiny = make_corpus(SEEDS, tmp_path / "tiny", 0.05)
    assert tiny.seed_docs == [] and len(tiny.synthetic_docs) == 1
    evidence_doc = a.synthetic_docs[0]
    quote = first_line[:30]
    assert evidence_doc in relevant_docs(a, ["004_8dfb9935f69a8e59"], [quote])


def test_percentile_and_growth_slope() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5 and percentile([], 95) is None
    g = growth(100, 2.0, 1000, 20.0)
    assert g is not None and g.factor_per_10x == 10.0 and g.exponent == 1.0


def test_bench_smoke_writes_results_and_reingest_embeds_nothing(tmp_path: Path, monkeypatch) -> None:
    # One embedder thread: on a busy CI box OpenMP's spinning second thread costs more than it gives.
    monkeypatch.setenv("RAG_EMBED_THREADS", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(
        bench_command,
        ["--scale", "0.02,0.05", "--questions", "3", "--load-questions", "6", "--load-threads", "3",
         "--cold-starts", "1", "--app-starts", "1", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output + str(result.exception)
    assert "targets:" in result.output and "PASS" in result.output
    data = json.loads(out.read_text())
    assert data["schema"] == "rag-bench/1"
    assert set(data) >= {"machine", "settings", "scales", "cold_start", "cold_start_largest", "memory", "load",
                         "growth", "targets"}
    assert [s["scale"] for s in data["scales"]] == [0.02, 0.05]
    for s in data["scales"]:
        assert s["chunks"] > 0 and s["ingest"]["embedded_texts"] == s["ingest"]["embedded_chunks"] + s["ingest"]["embedded_sentences"] > 0
        assert set(s["ingest"]["phases_s"]) == {"clean_chunk", "embed", "store_write", "store_read", "other"}
        assert s["reingest"]["embedded_texts"] == s["reingest"]["embedded_chunks"] == s["reingest"]["embedded_sentences"] == 0
        assert s["reingest"]["changed"] == 0 and s["reingest"]["unchanged"] == s["documents"]
        systems = s["query"]["systems"]
        assert set(systems) == {"hybrid", "exact_floor", "naive_langchain"}
        assert all(set(v["latency_ms"]) >= {"p50", "p95", "p99"} and v["latency_ms"]["n"] == 3 for v in systems.values())
        assert all(0 <= r <= 1 for r in s["query"]["hnsw_recall_at_5"].values())
        assert s["answers"]["answer_ms"]["n"] + s["answers"]["errors"] == 3 and s["disk_bytes"] > 0
    assert data["load"]["questions"] == 6 and data["load"]["errors"] == 0 and data["load"]["citation_mismatches"] == 0
    assert data["cold_start"]["runs"] == 1 and not data["cold_start"]["errors"]
    assert data["cold_start"]["scale"] == 0.02 and data["cold_start_largest"]["scale"] == 0.05
    assert data["memory"]["rag_ask_peak_rss_mb"] > 0
    memory = data["load"]["memory"]
    assert memory["after_warmup_mb"] > 0 and memory["end_mb"] > 0 and len(memory["samples"]) == 6
    assert any(t["name"].startswith("memory flat") for t in data["targets"])
    app = data["app_start"]
    if app["skipped"] is None:  # a real browser on this machine (CI installs Debian's chromium)
        assert not app["errors"] and len(app["first_answer_s"]) == 1 and app["page_ready_s"][0] > 0
        assert any(t["name"].startswith("first answer in the app") for t in data["targets"])
    else:
        assert "chromium" in app["skipped"].lower() or "playwright" in app["skipped"].lower()
    assert "retrieval_p50_ms" in data["growth"]
    reingest = [t for t in data["targets"] if t["name"].startswith("re-ingest")]
    assert len(reingest) == 2 and all(t["passed"] for t in reingest)
    # the bench closed every client on its temp stores before deleting them, so no figure can have been
    # read from a deleted store (which fails only once SQLite opens a fresh connection: "unable to open
    # database file", as a CI run once showed)
    assert not [k for k in SharedSystemClient._identifier_to_system if "rag-bench-" in k]
