"""The bench's records: the options of a run and every figure it produces, serializable to JSON.

What it does: ``BenchOptions`` (what to run), the per-scale ``ScaleResult``
with its Chroma-server figures, the ``ColdStart`` of ``rag ask``, a judged
``Target``, and ``BenchResults``, the whole run (``to_json``, secrets redacted).

What it leaves out: measuring (``runs``, ``scale``, ``queries``, ``answers``,
``ingest``), judging targets (``targets``) and printing (``report``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.bench import measure
from rag.bench.answers import AnswerFigures, LoadFigures
from rag.bench.app_start import AppStart
from rag.bench.ingest import IngestFigures, ReingestFigures
from rag.bench.queries import QueryFigures
from rag.evaluation.paths import DATASETS_DIR
from rag.redact import redact_data

SCHEMA = "rag-bench/1"


@dataclass
class BenchOptions:
    scales: list[float]
    questions: int | None = None  # first N questions of the eval datasets (default all)
    chroma_server: bool = False
    load_questions: int = 200
    load_threads: int = 8
    cold_starts: int = 3
    app_starts: int = 2  # cold `streamlit run` + headless Chromium, timed to the first answer
    seed: int = 0
    datasets_dir: Path = DATASETS_DIR
    work_dir: Path | None = None  # default: a temp dir, removed afterwards


@dataclass
class ServerFigures:
    port: int
    started_s: float | None  # spawn to first heartbeat
    copy_s: float  # writing every chunk and sentence row (with its vector) to the server
    rows_per_s: float
    retriever_build_s: float  # keyword index rebuilt from the server's rows + language means


@dataclass
class ScaleResult:
    scale: float
    documents: int
    seed_documents: int
    synthetic_documents: int
    corpus_chars: int
    chunks: int
    sentences: int
    ingest: IngestFigures
    reingest: ReingestFigures
    retriever_build_s: float  # whole Retriever.build: read the chunks, keyword index, stored language means
    keyword_index_s: float  # of which: reading chunk texts from the store and building BM25
    disk_bytes: int
    disk_mb_per_1000_chunks: float
    query: QueryFigures
    answers: AnswerFigures
    server: ServerFigures | None = None


@dataclass
class ColdStart:
    scale: float
    chunks: int
    runs: int
    first_answer_s: list[float]
    median_s: float | None
    in_process_answer_ms: float | None  # the answer's own timings_ms.total (the rest is start-up)
    exit_s: float | None
    peak_rss_mb: float | None
    errors: list[str] = field(default_factory=list)


@dataclass
class Target:
    name: str
    scale: float | None
    target: str
    measured: str
    passed: bool | None  # None: not measured in this run
    margin: str
    dominant: str


@dataclass
class BenchResults:
    schema: str
    started: str
    wall_s: float
    machine: measure.Machine
    settings: dict[str, Any]
    scales: list[ScaleResult]
    cold_start: ColdStart | None  # over the first scale's store: the target
    cold_start_largest: ColdStart | None  # over the largest scale's store: how start-up grows
    app_start: AppStart | None  # the Streamlit app over the first scale's store, in a real browser
    memory: dict[str, float | None]
    load: LoadFigures | None
    growth: dict[str, dict[str, Any]]
    targets: list[Target]

    def to_json(self) -> str:
        return json.dumps(redact_data(asdict(self)), ensure_ascii=False, indent=2)
