"""Where the eval's inputs live: the gold datasets, the dev/test split file and the thresholds.

``evals/`` beside the ``rag`` package: ``datasets/*.jsonl`` (the three default
sets), ``splits.toml`` and ``thresholds.toml``. What it leaves out: reading
them (``datasets``, ``splits``, ``gate``) and where reports go
(``RAG_EVAL_RUNS_DIR``).
"""

from __future__ import annotations

from rag.config import PROJECT_DIR

EVALS_DIR = PROJECT_DIR / "evals"
DATASETS_DIR = EVALS_DIR / "datasets"
DEFAULT_DATASETS = tuple(DATASETS_DIR / name for name in ("ft_summary.jsonl", "corpus.jsonl", "news.jsonl"))
DEFAULT_SPLITS = EVALS_DIR / "splits.toml"
DEFAULT_THRESHOLDS = EVALS_DIR / "thresholds.toml"
