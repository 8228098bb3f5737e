"""The ``rag eval`` command: run the gold datasets, write the reports, gate on thresholds.

What it does: reads the settings (``load_settings``: RAG_* variables and .env
apply, as in the app; a bad one is one ``error:`` line), builds the app's
chain (``default``), the extractive answerer beside
it when the default is an LLM, and the naive baseline with ``--baseline``;
runs the cases of the chosen split (``evals/splits.toml``) with a progress bar
on stderr, compares with the previous run of the same split (or
``--compare``), writes report.json/.md/.html, prints the side-by-side table,
and exits 1 when a threshold in ``evals/thresholds.toml`` fails (2 on a
configuration or input error).

Errors a user can act on are one ``error:`` line and exit 2 (``rag.cli.group``).
What it leaves out: where the input files live (``paths.py``), and all scoring
and rendering (``runner.py``, ``report.py``).
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

import click

from rag.cli.group import RagCommand
from rag.config import PROJECT_DIR, load_settings
from rag.errors import InputError
from rag.evaluation.paths import DEFAULT_DATASETS, DEFAULT_SPLITS, DEFAULT_THRESHOLDS

SPLIT_CHOICES = ("dev", "test", "all")

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)

HELP = """Score the chatbot on the gold datasets and write report.json, report.md and report.html.

Every case goes through the same chain the app uses (RAG_CHAT_MODEL,
RAG_EMBEDDING_MODEL, ...); when that answerer is an LLM, the extractive
answerer runs beside it in the same report. Tune on --split dev, report
--split test. The report compares with the newest earlier run of the same
split unless --compare names another or --no-compare is given. With
RAG_JUDGE_MODEL set, an LLM judge adds faithfulness, correctness and ALCE
citation scores. Exits 1 when a metric misses its threshold, 2 on a
configuration error.

\b
Examples:
  rag eval                                  # all datasets, both splits, thresholds gate
  rag eval --split dev                      # tune here
  rag eval --split test                     # report this
  rag eval --llm-subset 30                  # the LLM answers a fixed 30 cases; extractive all
  rag eval --baseline                       # also run the naive baseline
  rag eval --limit 5 --out /tmp/quick       # first 5 cases per dataset
  rag eval --dataset evals/datasets/ft_summary.jsonl --k 8
  rag eval --compare evals/runs/20250101-120000
  RAG_JUDGE_MODEL=openai:gpt-4o-mini rag eval
"""


@click.command("eval", cls=RagCommand, help=HELP)
@click.option("--dataset", "datasets", type=_FILE, multiple=True,
              help="A JSONL dataset; repeat for several. Default: both files in evals/datasets.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Report directory. Default: evals/runs/<timestamp>/.")
@click.option("--compare", type=click.Path(exists=True, path_type=Path),
              help="A previous run directory or its report.json: show each metric's change and flipped cases.")
@click.option("--k", type=click.IntRange(1, 50), help="Passages retrieved per question (default: RAG_K).")
@click.option("--baseline/--no-baseline", default=False, show_default=True,
              help="Also run the naive baseline (dense-only, uncleaned text) for comparison.")
@click.option("--split", type=click.Choice(SPLIT_CHOICES), default="all", show_default=True,
              help="Which cases of evals/splits.toml to run: dev (tune here), test (report this) or all.")
@click.option("--llm-subset", type=click.IntRange(min=1),
              help="An LLM answerer runs only a fixed N of the cases (first N by hash); extractive runs all.")
@click.option("--no-compare", is_flag=True, help="Do not compare with the previous run.")
@click.option("--limit", type=click.IntRange(min=1), help="Run only the first N cases of each dataset.")
@click.option("--thresholds", type=_FILE,
              help=f"Thresholds TOML. Default: {DEFAULT_THRESHOLDS.relative_to(PROJECT_DIR)}.")
def eval_command(
    datasets: tuple[Path, ...],
    out: Path | None,
    compare: Path | None,
    k: int | None,
    baseline: bool,
    limit: int | None,
    thresholds: Path | None,
    split: str,
    llm_subset: int | None,
    no_compare: bool,
) -> None:
    from rag.evaluation import gate, report, tables
    from rag.evaluation.comparison import comparison_of
    from rag.evaluation.datasets import load_datasets
    from rag.evaluation.splits import load_splits
    from rag.evaluation.judge import make_judge
    from rag.evaluation.metrics import make_similarity_embeddings
    from rag.evaluation.runner import build_systems, run_eval

    started = time.perf_counter()
    settings = load_settings()
    k = k or settings.k
    splits = load_splits(DEFAULT_SPLITS) if DEFAULT_SPLITS.exists() else {}
    if split != "all" and not splits:
        raise InputError(f"--split {split} needs {DEFAULT_SPLITS}")
    keep = None if split == "all" else (lambda case: splits.get(case.id) == split)
    infos, cases = load_datasets(list(datasets or DEFAULT_DATASETS), limit, keep)
    if not any(cases.values()):
        raise InputError(f"no case of these datasets is in the {split} split of {DEFAULT_SPLITS}")
    gate_file = thresholds or (DEFAULT_THRESHOLDS if DEFAULT_THRESHOLDS.exists() else None)
    limits = gate.load_thresholds(gate_file) if gate_file else {}
    out = out or Path(settings.eval_runs_dir) / datetime.now().strftime("%Y%m%d-%H%M%S")
    previous = None
    if compare:
        previous = (compare, report.load_report(compare))
    elif not no_compare:
        previous = report.previous_run(Path(settings.eval_runs_dir), split, exclude=out)
    click.echo("Opening the index (building it from the seeds on first use)…", err=True)
    systems = build_systems(settings, baseline)
    judge = make_judge(settings)
    similarity = make_similarity_embeddings(settings.embed_threads)
    n = sum(len(c) for c in cases.values())
    total = sum(min(n, llm_subset) if llm_subset and not c.extractive and name != "baseline" else n
                for name, c in systems.items())
    with click.progressbar(length=total, label=f"eval {', '.join(systems)}", file=sys.stderr) as bar:
        run = run_eval(systems, infos, cases, settings=settings, k=k, similarity=similarity,
                       judge=judge, progress=lambda: bar.update(1), splits=splits, split=split,
                       llm_subset=llm_subset)
    run.splits_file = str(DEFAULT_SPLITS) if splits else None
    if gate_file:
        run.thresholds_file = str(gate_file)
        run.threshold_failures, skipped = gate.check_thresholds(run, limits)
        if skipped:
            click.echo(f"thresholds not checkable in this run, skipped: {'; '.join(skipped)}", err=True)
    if previous is not None:
        run.comparison = report.compare(run, previous[1], str(previous[0]))
    run.wall_time_s = round(time.perf_counter() - started, 2)
    paths = report.write_reports(run, out)

    click.echo(tables.summary_line(run).replace("`", ""))
    click.echo(tables.text_table(*tables.headline(run)))
    compared = comparison_of(run)
    if compared and previous is not None:
        flips = compared.flips
        header, rows = tables.comparison_table(run, changed_only=True)
        click.echo(f"\nvs {previous[0]} (default answerer, metrics that changed):")
        click.echo(tables.text_table(header, rows) if rows else "no metric changed")
        for kind, title in (("pass_to_fail", "pass → fail"), ("fail_to_pass", "fail → pass")):
            ids = ", ".join(f"{i.dataset}/{i.id}" for i in flips.get(kind, [])) or "none"
            click.echo(f"{title}: {ids}")
    click.echo(f"\nreports: {paths['md']}  {paths['html']}  {paths['json']}")
    if run.threshold_failures:
        click.echo(f"\n{len(run.threshold_failures)} threshold(s) failed:", err=True)
        for failure in run.threshold_failures:
            click.echo(f"  {tables.describe_failure(failure)}", err=True)
        sys.exit(1)
    if gate_file:
        click.echo(f"all thresholds in {gate_file} pass")
