"""The bench's questions: the eval datasets' cases, read and validated by the eval's own loader.

What it does: ``load_questions`` reads every ``*.jsonl`` of a directory (sorted
by file name) with ``rag.evaluation.datasets.load_datasets``, so the bench asks
exactly the validated ``EvalCase`` objects ``rag eval`` scores (a bad case is
the same ``InputError``), and keeps the first ``limit`` over all files. Each
``Question`` is a case with its bench id ``<dataset>:<case id>``.

What it leaves out: the dev/test splits (the bench asks every case) and scoring.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.evaluation.datasets import EvalCase, load_datasets


@dataclass(frozen=True)
class Question:
    id: str  # <dataset>:<case id>, unique over all datasets
    case: EvalCase

    @property
    def question(self) -> str:
        return self.case.question

    @property
    def history(self) -> list[dict[str, str]]:
        """The conversation before the question, as the chain takes it."""
        return [t.model_dump() for t in self.case.history]


def load_questions(datasets_dir: Path, limit: int | None = None) -> list[Question]:
    """Cases of every ``*.jsonl`` in ``datasets_dir`` (sorted by file name), first ``limit`` overall."""
    _, cases = load_datasets(sorted(datasets_dir.glob("*.jsonl")))
    out = [Question(f"{name}:{case.id}", case) for name, dataset in cases.items() for case in dataset]
    return out[:limit] if limit else out
