"""Growth slopes, target verdicts and the printed table of a ``BenchResults``.

Targets (from the issue) are judged on figures of the same run: retrieval p95
within 3× of the exact numpy floor's p95 at every scale (both include
embedding the question), retrieval p95 under 50 ms at 100×, zero embeddings on
re-ingest, hybrid hit@5 above the naive baseline's at under 2× its median
latency, ``rag ask`` cold start under 3 s, the app's first answer after
start-up under 1 s (real browser), and resident memory under load growing at
most 5% after warm-up. A target whose scale was not run
is reported as NOT RUN with the value projected from the growth slope.

What it leaves out: measuring (``runs``, ``queries``, ``ingest``) and files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rag.bench import measure
from rag.bench.measure import growth, project

if TYPE_CHECKING:
    from rag.bench.runs import BenchResults, ScaleResult, Target

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
    from rag.bench.runs import Target

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


# ---- printing -------------------------------------------------------------------------


def _f(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _stat(s: Any, keys: tuple[str, ...] = ("p50", "p95", "p99")) -> str:
    return "/".join(_f(getattr(s, k)) for k in keys)


def _rows(bench: BenchResults) -> list[tuple[str, list[str]]]:
    R = bench.scales
    rows: list[tuple[str, list[str]]] = [
        ("docs (seed+synthetic) / chunks / sentences",
         [f"{r.documents} ({r.seed_documents}+{r.synthetic_documents}) / {r.chunks} / {r.sentences}" for r in R]),
        ("ingest: wall s · docs/s · chunks/s",
         [f"{r.ingest.wall_s:.1f} · {r.ingest.docs_per_s:.2f} · {r.ingest.chunks_per_s:.2f}" for r in R]),
        ("  clean+chunk / embed / store write / read / other s",
         [" / ".join(_f(r.ingest.phases_s.get(k), 2) for k in ("clean_chunk", "embed", "store_write", "store_read", "other"))
          for r in R]),
        ("  texts embedded (texts/s)",
         [f"{r.ingest.embedded_texts} ({_f(r.ingest.embed_texts_per_s)})" for r in R]),
        ("re-ingest: s · embeddings", [f"{r.reingest.wall_s:.2f} · {r.reingest.embedded_texts}" for r in R]),
        ("retriever build s (of which BM25 rebuild)", [f"{r.retriever_build_s:.2f} ({r.keyword_index_s:.2f})" for r in R]),
        ("disk MB · MB per 1k chunks", [f"{r.disk_bytes / 2**20:.1f} · {r.disk_mb_per_1000_chunks:.1f}" for r in R]),
        ("retrieval hybrid p50/p95/p99 ms", [_stat(r.query.systems["hybrid"].latency_ms) for r in R]),
        ("  embed q / search / fuse+fetch ms (mean)",
         [" / ".join(_f(r.query.retrieval_parts_ms.get(k)) for k in ("embed_query", "search", "fuse_fetch")) for r in R]),
        ("exact numpy floor p50/p95/p99 ms", [_stat(r.query.systems["exact_floor"].latency_ms) for r in R]),
        ("  numpy search alone p50/p95 ms", [_stat(r.query.floor_search_ms, ("p50", "p95")) for r in R]),
        ("naive LangChain p50/p95/p99 ms", [_stat(r.query.systems["naive_langchain"].latency_ms) for r in R]),
        ("hit@5 hybrid / naive / exact dense",
         [" / ".join(_f(r.query.systems[k].hit_at_5, 3) for k in ("hybrid", "naive_langchain", "exact_floor")) for r in R]),
        ("HNSW recall@5 chunks / sentences",
         [f"{_f(r.query.hnsw_recall_at_5.get('chunks'), 3)} / {_f(r.query.hnsw_recall_at_5.get('sentences'), 3)}"
          for r in R]),
        ("  at retriever depth (chunks@n / sentences@n)",
         [f"{_f(r.query.hnsw_recall_at_5.get('chunk_candidates'), 3)}@{r.query.candidates.get('chunks')} / "
          f"{_f(r.query.hnsw_recall_at_5.get('sentence_candidates'), 3)}@{r.query.candidates.get('sentences')}"
          for r in R]),
        ("answer (ask) p50/p95 ms", [_stat(r.answers.answer_ms, ("p50", "p95")) for r in R]),
        ("first streamed piece p50/p95 ms", [_stat(r.answers.first_piece_ms, ("p50", "p95")) for r in R]),
    ]
    if any(r.server for r in R):
        rows += [
            ("server: copy rows/s · retriever build s",
             [f"{r.server.rows_per_s:.0f} · {r.server.retriever_build_s:.2f}" if r.server else "—" for r in R]),
            ("server: hybrid p50/p95/p99 ms",
             [_stat(r.query.systems["server_hybrid"].latency_ms) if "server_hybrid" in r.query.systems else "—" for r in R]),
            ("server: naive p50/p95/p99 ms",
             [_stat(r.query.systems["server_naive_langchain"].latency_ms)
              if "server_naive_langchain" in r.query.systems else "—" for r in R]),
            ("server: hit@5 hybrid / naive",
             [f"{_f(r.query.systems['server_hybrid'].hit_at_5, 3)} / "
              f"{_f(r.query.systems['server_naive_langchain'].hit_at_5, 3)}"
              if "server_hybrid" in r.query.systems else "—" for r in R]),
        ]
    return rows


def render(bench: BenchResults) -> str:
    rows = _rows(bench)
    header = ["", *[f"{r.scale:g}×" for r in bench.scales]]
    table = [header, *[[name, *vals] for name, vals in rows]]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    out = ["\n".join(lines), ""]
    for c in (bench.cold_start, bench.cold_start_largest):
        if c is None:
            continue
        runs = ", ".join(f"{x:.2f}" for x in c.first_answer_s)
        out.append(
            f"cold start `rag ask` @{c.scale:g}× ({c.chunks} chunks): median {_f(c.median_s, 2)} s to the answer "
            f"({runs}), answering itself {_f(c.in_process_answer_ms)} ms, exit {_f(c.exit_s, 2)} s, "
            f"peak RSS {_f(c.peak_rss_mb)} MiB" + (f"; errors: {c.errors}" if c.errors else "")
        )
    m = bench.memory
    out.append(
        f"peak RSS MiB: bench process {_f(m.get('bench_peak_rss_mb'))}, chroma server "
        f"{_f(m.get('chroma_server_peak_rss_mb'))} (rag ask: above)"
    )
    if bench.load:
        ld = bench.load
        out.append(
            f"load ({ld.chunks} chunks): {ld.questions} questions from {ld.threads} threads in {ld.wall_s:.1f} s = "
            f"{ld.throughput_qps:.1f} q/s, p50/p95 {_f(ld.latency_ms.p50)}/{_f(ld.latency_ms.p95)} ms, errors {ld.errors}, "
            f"citations outside own passages {ld.citation_mismatches}, differs from sequential {ld.differs_from_sequential}"
        )
        if ld.memory and ld.memory.after_warmup_mb is not None:
            mem = ld.memory
            out.append(
                f"  memory under load: RSS {_f(mem.before_mb)} MiB before, {_f(mem.after_warmup_mb)} after warm-up, "
                f"{_f(mem.end_mb)} at the end ({mem.growth_mb:+.1f} MiB), peak {_f(mem.peak_mb)}"
            )
    app = bench.app_start
    if app is not None:
        if app.skipped:
            out.append(f"app start-up: not measured ({app.skipped})")
        else:
            out.append(
                f"app start-up (streamlit run + headless Chromium, {len(app.first_answer_s)} fresh servers): "
                f"healthy {', '.join(f'{x:.2f}' for x in app.server_healthy_s)} s, page ready "
                f"{', '.join(f'{x:.2f}' for x in app.page_ready_s)} s, after Enter: answer text "
                f"{', '.join(f'{x:.2f}' for x in app.answer_text_s)} s, first source card "
                f"{', '.join(f'{x:.2f}' for x in app.first_answer_s)} s"
                + (f"; errors: {app.errors}" if app.errors else "")
            )
    if bench.growth:
        out += ["", "growth per 10× chunks (first → last scale; projection at 100× where 100× was not run):"]
        for name, g in bench.growth.items():
            proj = g.get("projected_at_100x")
            out.append(
                f"  {name:26s} ×{_f(g.get('factor_per_10x'), 2):>6}"
                + (f"   → {_f(proj, 2)} at 100×" if proj is not None else "")
            )
    out += ["", "targets:"]
    for t in bench.targets:
        verdict = "NOT RUN" if t.passed is None else "PASS" if t.passed else "MISS"
        where = f" @{t.scale:g}×" if t.scale is not None else ""
        out.append(f"  {verdict:7s} {t.name}{where}: {t.measured} (target {t.target}; {t.margin})")
        out.append(f"          dominated by: {t.dominant}")
    out.append(
        f"\nwall {bench.wall_s:.0f} s; load average {bench.machine.loadavg_start} → {bench.machine.loadavg_end} "
        f"on {bench.machine.cpus} CPUs"
    )
    return "\n".join(out)
