"""Growth slopes and target verdicts of a ``BenchResults``, judged on figures of the same run.

Targets (from the issue): retrieval p95 within 3× of the exact numpy floor's
p95 at every scale (both include embedding the question), retrieval p95 under
50 ms at 100×, zero embeddings on re-ingest, hybrid hit@5 above the naive
baseline's at under 2× its median latency, ``rag ask`` cold start under 3 s,
the app's first answer after start-up under 1 s (real browser), and resident
memory under load growing at most 5% after warm-up. A target whose scale was
not run is reported as NOT RUN with the value projected from the growth slope.

What it leaves out: measuring (``runs`` and the modules it calls), printing
(``report``) and files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rag.bench import measure
from rag.bench.measure import growth, project
from rag.bench.results import BenchResults, ScaleResult, Target

FLOOR_RATIO = 3.0
P95_AT_100X_MS = 50.0
NAIVE_RATIO = 2.0
COLD_START_S = 3.0
APP_FIRST_ANSWER_S = 1.0
MEMORY_GROWTH_PCT = 5.0


def _system(r: ScaleResult, name: str, stat: str) -> float | None:
    s = r.query.systems.get(name)
    return getattr(s.latency_ms, stat) if s else None


STAGES: dict[str, Callable[[ScaleResult], float | None]] = {
    "ingest_s": lambda r: r.ingest.wall_s,
    "ingest_embed_s": lambda r: r.ingest.phases_s.get("embed"),
    "ingest_clean_chunk_s": lambda r: r.ingest.phases_s.get("clean_chunk"),
    "ingest_store_write_s": lambda r: r.ingest.phases_s.get("store_write"),
    "ingest_store_read_s": lambda r: r.ingest.phases_s.get("store_read"),
    "reingest_s": lambda r: r.reingest.wall_s,
    "retriever_build_s": lambda r: r.retriever_build_s,
    "keyword_index_s": lambda r: r.keyword_index_s,
    "disk_bytes": lambda r: float(r.disk_bytes),
    "retrieval_p50_ms": lambda r: _system(r, "hybrid", "p50"),
    "retrieval_p95_ms": lambda r: _system(r, "hybrid", "p95"),
    "retrieval_embed_query_ms": lambda r: r.query.retrieval_parts_ms.get("embed_query"),
    "retrieval_search_ms": lambda r: r.query.retrieval_parts_ms.get("search"),
    "retrieval_fuse_fetch_ms": lambda r: r.query.retrieval_parts_ms.get("fuse_fetch"),
    "floor_p50_ms": lambda r: _system(r, "exact_floor", "p50"),
    "floor_search_p50_ms": lambda r: r.query.floor_search_ms.p50,
    "naive_p50_ms": lambda r: _system(r, "naive_langchain", "p50"),
    "answer_p50_ms": lambda r: r.answers.answer_ms.p50,
    "server_retrieval_p50_ms": lambda r: _system(r, "server_hybrid", "p50"),
}


def chunks_at_100x(results: list[ScaleResult]) -> int | None:
    base = next((r for r in results if r.scale == 1), None) or (results[-1] if results else None)
    return int(base.chunks * 100 / base.scale) if base else None


def compute_growth(results: list[ScaleResult]) -> dict[str, dict[str, Any]]:
    """Per stage: points (chunks, value), factor per 10× chunks first→last scale, projection at 100×."""
    out: dict[str, dict[str, Any]] = {}
    if len(results) < 2:
        return out
    first, last = results[0], results[-1]
    target = chunks_at_100x(results)
    measured_100 = any(r.scale == 100 for r in results)
    for name, get in STAGES.items():
        points = [(r.chunks, get(r)) for r in results]
        if all(v is None for _, v in points):
            continue
        g = growth(first.chunks, get(first), last.chunks, get(last))
        out[name] = {
            "points": [[c, v] for c, v in points],
            "factor_per_10x": g.factor_per_10x if g else None,
            "exponent": g.exponent if g else None,
            "projected_at_100x": (
                round(p, 4) if g and target and not measured_100 and (p := project(g, target)) is not None else None
            ),
        }
    return out


def _under(value: float, limit: float, unit: str) -> str:
    if value <= limit:
        return f"{limit - value:.2f}{unit} under the limit"
    return f"{value - limit:.2f}{unit} over ({value / limit:.2f}× the limit)"


def evaluate_targets(bench: BenchResults) -> list[Target]:
    out: list[Target] = []
    for r in bench.scales:
        parts = r.query.retrieval_parts_ms
        hyb95 = _system(r, "hybrid", "p95")
        floor95 = _system(r, "exact_floor", "p95")
        dominant = (
            f"embed question {parts.get('embed_query', 0):.1f} ms + Chroma HNSW (chunks+sentences) and BM25 "
            f"{parts.get('search', 0):.1f} ms + fuse/fetch {parts.get('fuse_fetch', 0):.1f} ms (means); "
            f"numpy search alone p50 {r.query.floor_search_ms.p50 or 0:.2f} ms"
        )
        if hyb95 and floor95:
            ratio = hyb95 / floor95
            out.append(Target(
                "retrieval p95 ≤ 3× exact numpy floor p95", r.scale, f"≤ {FLOOR_RATIO:g}×",
                f"{hyb95:.1f} ms vs {floor95:.1f} ms = {ratio:.2f}×", ratio <= FLOOR_RATIO,
                _under(ratio, FLOOR_RATIO, "×"), dominant,
            ))
        if r.scale == 100 and hyb95:
            out.append(Target(
                "retrieval p95 < 50 ms at 100×", r.scale, f"< {P95_AT_100X_MS:g} ms", f"{hyb95:.1f} ms",
                hyb95 < P95_AT_100X_MS, _under(hyb95, P95_AT_100X_MS, " ms"), dominant,
            ))
        n = r.reingest.embedded_texts + r.reingest.embedded_chunks + r.reingest.embedded_sentences
        out.append(Target(
            "re-ingest of the unchanged corpus computes 0 embeddings", r.scale, "0",
            f"{r.reingest.embedded_texts} texts embedded, {r.reingest.wall_s:.2f} s for {r.reingest.unchanged} docs",
            n == 0, "exact" if n == 0 else f"{n} too many",
            "per file: one manifest read (file hash) from the store; no embedding",
        ))
        hyb_hit = r.query.systems["hybrid"].hit_at_5
        naive_hit = r.query.systems["naive_langchain"].hit_at_5
        if hyb_hit is not None and naive_hit is not None:
            out.append(Target(
                "hybrid hit@5 > naive LangChain hit@5", r.scale, "> naive",
                f"{hyb_hit:.3f} vs {naive_hit:.3f} ({r.query.answerable} answerable questions)",
                hyb_hit > naive_hit, f"{hyb_hit - naive_hit:+.3f}",
                "sentence vectors + BM25 (names, numbers) fused by RRF vs chunk vectors alone",
            ))
        hyb50 = _system(r, "hybrid", "p50")
        naive50 = _system(r, "naive_langchain", "p50")
        if hyb50 and naive50:
            ratio = hyb50 / naive50
            out.append(Target(
                "hybrid median latency < 2× naive median", r.scale, f"< {NAIVE_RATIO:g}×",
                f"{hyb50:.1f} ms vs {naive50:.1f} ms = {ratio:.2f}×", ratio < NAIVE_RATIO,
                _under(ratio, NAIVE_RATIO, "×"),
                "both embed the question once; the hybrid adds a sentence HNSW query, BM25 and fusion",
            ))
    if not any(r.scale == 100 for r in bench.scales):
        projected = bench.growth.get("retrieval_p95_ms", {}).get("projected_at_100x")
        out.append(Target(
            "retrieval p95 < 50 ms at 100×", 100, f"< {P95_AT_100X_MS:g} ms", "not run (use --scale 1,10,100)",
            None, f"projected {projected:.1f} ms from the growth slope" if projected else "no projection",
            "run by hand: 100× ingest takes ~100× the seeds' ingest time",
        ))
    cold = bench.cold_start
    if cold and cold.median_s is not None:
        inside = (cold.in_process_answer_ms or 0) / 1000
        out.append(Target(
            "cold start of `rag ask` < 3 s", cold.scale, f"< {COLD_START_S:g} s",
            f"median {cold.median_s:.2f} s of {len(cold.first_answer_s)} runs", cold.median_s < COLD_START_S,
            _under(cold.median_s, COLD_START_S, " s"),
            f"start-up (imports, embedder, store, keyword index) {cold.median_s - inside:.2f} s, "
            f"answering {inside:.2f} s",
        ))
    big = bench.cold_start_largest
    if big and big.median_s is not None:
        inside = (big.in_process_answer_ms or 0) / 1000
        out.append(Target(
            "cold start of `rag ask` < 3 s", big.scale, f"< {COLD_START_S:g} s",
            f"median {big.median_s:.2f} s of {len(big.first_answer_s)} runs ({big.chunks} chunks)",
            big.median_s < COLD_START_S, _under(big.median_s, COLD_START_S, " s"),
            f"start-up {big.median_s - inside:.2f} s (of which the retriever build: BM25 rebuilt from the store, "
            f"the language means read from the commit, ~{bench.scales[-1].retriever_build_s:.2f} s in-process), "
            f"answering {inside:.2f} s",
        ))
    app = bench.app_start
    if app and app.median_first_answer_s is not None:
        out.append(Target(
            "first answer in the app after start-up < 1 s", bench.scales[0].scale, f"< {APP_FIRST_ANSWER_S:g} s",
            f"median {app.median_first_answer_s:.2f} s of {len(app.first_answer_s)} fresh servers",
            app.median_first_answer_s < APP_FIRST_ANSWER_S, _under(app.median_first_answer_s, APP_FIRST_ANSWER_S, " s"),
            f"Enter → first source card in headless Chromium (answer text: median "
            f"{measure.percentile(app.answer_text_s, 50) or 0:.2f} s); the page itself was ready "
            f"{measure.percentile(app.page_ready_s, 50) or 0:.2f} s after `streamlit run` (models and index load then)",
        ))
    mem = bench.load.memory if bench.load else None
    if mem and mem.growth_pct is not None:
        out.append(Target(
            "memory flat after warm-up under load", bench.scales[-1].scale, f"≤ {MEMORY_GROWTH_PCT:g}% RSS growth",
            f"{mem.after_warmup_mb:.0f} → {mem.end_mb:.0f} MiB ({mem.growth_mb:+.1f} MiB, {mem.growth_pct:+.1f}%)",
            mem.growth_pct <= MEMORY_GROWTH_PCT, _under(mem.growth_pct, MEMORY_GROWTH_PCT, "%"),
            f"RSS sampled at each tenth of {bench.load.questions} questions; warm-up = the first quarter",
        ))
    return out
