"""Run every case through one or more answerers and collect the scored rows into an ``EvalRun``.

What it does: asks each system every case with the case's history (and its
retrieval filters, when the chain's ``ask`` takes a ``filters`` argument);
records a ``RagError`` as an error row instead of stopping; scores each row
(``scoring.py``, and the judge when given); and totals the rows
(``totals.py``). The systems are the configured answerer (``default``), the
extractive answerer beside it when the default is an LLM, and optionally the
naive baseline. An LLM answerer may run a fixed subset of the cases
(``llm_subset``: the first N by sha256 of dataset/id) while the others run them all.

What it leaves out: rendering, comparing runs and thresholds (``report.py``,
``gate.py``), the command line (``command.py``) and the judge's prompt (``judge.py``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Literal

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, Field

from rag import factory
from rag.answer.chain import RagChain
from rag.config import Settings
from rag.errors import ConfigError, RagError
from rag.retrieval.filters import Filters, make_filters
from rag.evaluation import metrics as m
from rag.evaluation.datasets import DatasetInfo, EvalCase
from rag.evaluation.judge import Judge
from rag.evaluation.scoring import CaseResult, new_row, score_answer, verdict
from rag.evaluation.totals import SystemTotals, aggregate, totals_by_system  # noqa: F401  (aggregate: re-exported)
from rag.redact import redact, redact_data

DEFAULT, EXTRACTIVE, BASELINE = "default", "extractive", "baseline"
PIPELINE = DEFAULT  # the configured answerer; the name older callers used
SUBSET_SUFFIX = "@llm-subset"
Key = tuple[str, str]


def case_filters(raw: Mapping[str, Any]) -> Filters | None:
    """A case's ``filters`` field ({"outlet": "界面新闻", "since": "2024-01-01", …}) as ``Filters``."""
    outlet = raw.get("outlet")
    outlets = [outlet] if isinstance(outlet, str) else list(outlet or [])
    return make_filters(outlets, raw.get("since"), raw.get("until"), raw.get("lang"))


Progress = Callable[[], None]


def run_system(
    name: str,
    chain: RagChain,
    cases: Mapping[str, Sequence[EvalCase]],
    *,
    k: int,
    judge: Judge | None = None,
    progress: Progress | None = None,
    splits: Mapping[str, str] | None = None,
    only: Collection[Key] | None = None,
) -> list[CaseResult]:
    """Every case (those in ``only`` when given) through ``chain.ask`` with its history; errors become error rows."""
    rows: list[CaseResult] = []
    for dataset, dataset_cases in cases.items():
        for case in dataset_cases:
            if only is not None and (dataset, case.id) not in only:
                continue
            row = new_row(name, dataset, case, (splits or {}).get(case.id))
            extra: dict[str, Any] = {}
            if case.filters:
                extra["filters"] = case_filters(case.filters)
            try:
                answer = chain.ask(case.question, [t.model_dump() for t in case.history], k=k, **extra)
            except RagError as exc:
                row.error = redact(f"{type(exc).__name__}: {exc}")
            else:
                score_answer(row, case, answer, k, chain.model_name)
                if judge is not None and not answer.refused:
                    try:
                        row.judge = judge.grade(case.question, case.answer, answer)
                    except Exception as exc:  # any judge failure is recorded on the row, never skipped
                        row.judge_error = redact(str(exc) if isinstance(exc, RagError) else f"{type(exc).__name__}: {exc}")
                    if row.judge:
                        row.metrics.update(
                            faithfulness=row.judge.faithfulness, correctness=row.judge.correctness,
                            citation_recall=row.judge.citation_recall,
                            citation_precision=row.judge.citation_precision,
                        )
            rows.append(row)
            if progress:
                progress()
    return rows


def add_similarity(rows: Sequence[CaseResult], embeddings: Embeddings) -> None:
    """Answer similarity for every answered answerable row, embedded in one batch."""
    todo = [r for r in rows if r.answerable and r.error is None and r.response is not None]
    sims = m.answer_similarity(embeddings, [r.response or "" for r in todo], [r.reference for r in todo])
    for row, sim in zip(todo, sims, strict=True):
        row.metrics["answer_similarity"] = sim


def finish(rows: Sequence[CaseResult]) -> None:
    for row in rows:
        row.passed, row.fail_reasons = verdict(row)


# ---- a whole run ---------------------------------------------------------------------


class ThresholdFailure(BaseModel):
    scope: str = Field(description="Where the bound applies, e.g. 'test · extractive' or 'all · default · corpus'.")
    metric: str
    bound: Literal["min", "max"]
    threshold: float
    value: float | None


class EvalRun(BaseModel):
    """Everything report.json holds."""

    schema_version: int = 2
    created: str
    wall_time_s: float
    k: int
    settings: dict[str, Any]
    models: dict[str, str | None]
    datasets: list[DatasetInfo]
    systems: list[str]
    answerers: dict[str, str] = Field(default_factory=dict, description="System → the chat model it ran.")
    split: str = Field("all", description="The split run: dev, test or all.")
    splits_file: str | None = None
    llm_subset: list[Key] | None = Field(None, description="The cases an LLM answerer ran, when it ran a subset.")
    judged: bool
    totals: dict[str, SystemTotals]
    cases: list[CaseResult]
    thresholds_file: str | None = None
    threshold_failures: list[ThresholdFailure] = Field(default_factory=list)
    comparison: dict[str, Any] | None = None

    def rows(self, system: str = DEFAULT) -> list[CaseResult]:
        return [r for r in self.cases if r.system == system]


def settings_snapshot(settings: Settings) -> dict[str, Any]:
    """The settings that shape results, without secrets."""
    return redact_data(settings.model_dump(mode="json", exclude={"openai_api_key", "chroma_auth_token"}),
                       (settings.openai_api_key, settings.chroma_auth_token))


def build_systems(settings: Settings, baseline: bool) -> dict[str, RagChain]:
    """The configured chain (``default``), the extractive one beside an LLM default, and the baseline if asked.

    The index is built from the seeds directory first if it is empty.
    """
    index = factory.open_store(settings)
    factory.ensure_ingested(index, settings)
    settings = settings.model_copy(update={"memo_size": 0})  # each case answered as if asked first
    default = factory.build_chain(settings, index)
    systems = {DEFAULT: default}
    if not default.extractive:
        systems[EXTRACTIVE] = factory.build_chain(settings.model_copy(update={"chat_model": "extractive"}), index)
    if baseline:
        build_baseline = getattr(factory, "build_baseline_chain", None)
        if build_baseline is None:
            raise ConfigError(
                "this version has no naive baseline (rag.factory.build_baseline_chain); run without --baseline"
            )
        systems[BASELINE] = build_baseline(settings)
    return systems


def subset_keys(cases: Mapping[str, Sequence[EvalCase]], n: int) -> list[Key]:
    """A fixed subset of ``n`` cases: the first ``n`` by sha256 of "dataset/id"."""
    keys = [(d, c.id) for d, cs in cases.items() for c in cs]
    return sorted(keys, key=lambda key: hashlib.sha256(f"{key[0]}/{key[1]}".encode()).digest())[:n]


def run_eval(
    systems: Mapping[str, RagChain],
    datasets: Sequence[DatasetInfo],
    cases: Mapping[str, Sequence[EvalCase]],
    *,
    settings: Settings,
    k: int,
    similarity: Embeddings,
    judge: Judge | None = None,
    progress: Progress | None = None,
    splits: Mapping[str, str] | None = None,
    split: str = "all",
    llm_subset: int | None = None,
) -> EvalRun:
    """Run every case through every system, score, total, and time the whole run.

    With ``llm_subset``, a system whose chain is an LLM runs only ``subset_keys``;
    the extractive answerer is then also totalled on those cases (``extractive@llm-subset``).
    """
    started = time.perf_counter()
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    subset = subset_keys(cases, llm_subset) if llm_subset else None
    limited = subset is not None and any(not c.extractive for n, c in systems.items() if n != BASELINE)
    rows: list[CaseResult] = []
    for name, chain in systems.items():
        only = set(subset) if limited and subset and not chain.extractive and name != BASELINE else None
        rows.extend(run_system(name, chain, cases, k=k, judge=judge, progress=progress, splits=splits, only=only))
    add_similarity(rows, similarity)
    finish(rows)
    pipeline = systems.get(DEFAULT) or next(iter(systems.values()))
    extra = (EXTRACTIVE + SUBSET_SUFFIX, set(subset)) if limited and subset and EXTRACTIVE in systems else None
    return EvalRun(
        created=created,
        wall_time_s=round(time.perf_counter() - started, 2),
        k=k,
        settings=settings_snapshot(settings),
        models={
            "chat_model": pipeline.model_name,
            "embedding_model": pipeline.embedding_model,
            "judge_model": judge.model if judge else None,
            "similarity_model": m.SIMILARITY_MODEL,
        },
        datasets=list(datasets),
        systems=list(systems),
        answerers={name: chain.model_name for name, chain in systems.items()},
        split=split,
        llm_subset=subset if limited else None,
        judged=judge is not None,
        totals=totals_by_system(rows, judge is not None, extra),
        cases=rows,
    )
