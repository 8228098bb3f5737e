"""The printed table of a ``BenchResults``: every scale side by side, then cold start, load, growth, targets.

What it does: ``render`` lays the figures of one run out as a fixed-width text
table (one column per scale) followed by one line per cold start, the load
test, the app start-up, the growth slopes and each target's verdict.

What it leaves out: measuring (``runs``), judging targets and growth
(``targets``) and files.
"""

from __future__ import annotations

from typing import Any

from rag.bench.results import BenchResults


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
