"""The ``rag bench`` click command: parse options, run the benchmark, write JSON, print the table.

Progress bars go to stderr, the table to stdout, the results to ``--out``.
Settings (embedder, k, candidates, chunking) come from ``load_settings``
(environment and ``.env``) like every other command; the answerer is always the offline
extractive one and ``CHROMA_HOST`` is ignored (``--chroma-server`` starts its
own server). Errors are one ``error:`` line and exit 2 (``rag.cli.group``).
What it leaves out: the measuring itself (``runs``).
"""

from __future__ import annotations

from pathlib import Path

import click

from rag.cli.group import RagCommand
from rag.cli.terminal import progress_bar


def _scales(value: str) -> list[float]:
    try:
        scales = sorted({float(x) for x in value.split(",") if x.strip()})
    except ValueError:
        raise click.BadParameter(f"{value!r}: give numbers separated by commas, e.g. 1,10,100") from None
    if not scales or any(s <= 0 or s > 1000 for s in scales):
        raise click.BadParameter("scales must be in (0, 1000], e.g. 1,10,100 (0.1 = a tiny synthetic corpus)")
    return scales


@click.command(cls=RagCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--scale", "scale", default="1,10", show_default=True,
              help="Corpus sizes in multiples of the seeds: 1 = the seeds; 10, 100 = seeds plus synthetic "
                   "articles; below 1 = a small synthetic corpus only.")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), default=Path("bench-results.json"),
              show_default=True, help="JSON results file.")
@click.option("--chroma-server", is_flag=True,
              help="Also run the query benchmark against a local Chroma server started for the run.")
@click.option("--questions", type=click.IntRange(1, None), default=None,
              help="Use the first N eval questions (default: all of evals/datasets/*.jsonl).")
@click.option("--load-questions", type=click.IntRange(0, None), default=200, show_default=True,
              help="Questions in the threaded load test on the largest scale (0 skips it).")
@click.option("--load-threads", type=click.IntRange(1, 256), default=8, show_default=True,
              help="Threads sharing one chain in the load test.")
@click.option("--cold-starts", type=click.IntRange(0, 20), default=3, show_default=True,
              help="Fresh `rag ask` processes timed for the cold start (0 skips it).")
@click.option("--app-starts", type=click.IntRange(0, 20), default=2, show_default=True,
              help="Cold `streamlit run` servers timed to the first cited answer in headless Chromium (0 skips it).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the synthetic corpora.")
@click.option("--datasets", "datasets_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Directory of eval *.jsonl files giving the questions (default evals/datasets).")
@click.option("--work-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Keep corpora and stores here instead of a temp dir that is removed afterwards.")
def bench_command(
    scale: str, out: Path, chroma_server: bool, questions: int | None, load_questions: int, load_threads: int,
    cold_starts: int, app_starts: int, seed: int, datasets_dir: Path | None, work_dir: Path | None,
) -> None:
    """Measure ingest, retrieval, answers, start-up and memory as the corpus grows.

    Every figure sits beside its reference from the same run: the exact numpy
    floor, a naive LangChain Chroma search, HNSW recall against exact search.
    Targets are printed as PASS/MISS with their margins.

    \b
    Examples:
      rag bench                              # scales 1 and 10: a few minutes on 2 cores
      rag bench --scale 1,10,100 --out bench-results-100.json   # 100×: about an hour
      rag bench --scale 1 --chroma-server    # also query through a local Chroma server
      rag bench --scale 0.1 --questions 5 --load-questions 0 --cold-starts 1 --app-starts 0   # a smoke run
    """
    from rag.bench.report import render
    from rag.bench.runs import BenchOptions, run_bench
    from rag.config import load_settings
    from rag.evaluation.paths import DATASETS_DIR

    settings = load_settings()
    options = BenchOptions(
        scales=_scales(scale), questions=questions, chroma_server=chroma_server, load_questions=load_questions,
        load_threads=load_threads, cold_starts=cold_starts, app_starts=app_starts, seed=seed,
        datasets_dir=datasets_dir or DATASETS_DIR, work_dir=work_dir,
    )
    if not any(options.datasets_dir.glob("*.jsonl")):
        raise click.UsageError(f"no *.jsonl question files in {options.datasets_dir}")
    results = run_bench(settings, options, progress=lambda label: progress_bar(label.ljust(22)),
                        log=lambda m: click.echo(m, err=True))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(results.to_json() + "\n", encoding="utf-8")
    click.echo(render(results))
    click.echo(f"\nresults: {out.resolve()}")
