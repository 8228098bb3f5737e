"""Gold evaluation datasets: validate JSONL files into ``EvalCase`` objects.

Each line is one case (id, question, answer, sources, evidence, facts,
answerable, language, history, tags, and the optional dates, conflict,
script and filters); a bad or duplicate case is reported with its file and
line number. Which split (dev/test) a case is in lives in ``splits.py``.
Nothing here runs or scores a case.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rag.errors import InputError
from rag.models import Language


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str = Field(min_length=1)


class ConflictSide(BaseModel):
    """One side of a disagreement in the sources: a figure or claim and who states it."""

    model_config = ConfigDict(extra="forbid")
    forms: list[str] = Field(min_length=1, description="Surface forms of this side's figure or claim.")
    source: str = Field(description="Doc id of the article that states it.")
    evidence: str = Field(min_length=1, description="Verbatim quote stating it.")
    attribution: str = Field("", description="Who makes this claim, for readers of the dataset.")


class EvalCase(BaseModel):
    """One gold case: a question, its gold answer and what a good answer must show."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1, description="Gold answer text.")
    sources: list[str] = Field(description="Doc ids that hold the answer; empty when unanswerable.")
    evidence: list[str] = Field(description="Verbatim quotes from the cleaned articles.")
    facts: list[list[str]] = Field(description="Facts the answer must state; each a list of surface forms.")
    answerable: bool
    language: Language
    history: list[Turn] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    dates: list[list[str]] = Field(
        default_factory=list, description="Gold dates the answer must state; each a list of surface forms."
    )
    conflict: list[ConflictSide] = Field(
        default_factory=list, description="Sides of a disagreement the answer must give, each attributed."
    )
    script: Literal["hans", "hant"] | None = Field(
        None, description="Chinese script the answer must be written in (Simplified / Traditional)."
    )
    filters: dict[str, str] = Field(
        default_factory=dict, description="Retrieval filters passed to the chain: outlet, since, until, lang."
    )

    @model_validator(mode="after")
    def _consistent(self) -> EvalCase:
        if self.answerable and not (self.sources and self.facts):
            raise ValueError("an answerable case needs sources and facts")
        if not self.answerable and (self.sources or self.evidence or self.facts or self.dates or self.conflict):
            raise ValueError("an unanswerable case must have empty sources, evidence, facts, dates and conflict")
        if set(self.filters) - FILTER_KEYS:
            raise ValueError(f"unknown filter {sorted(set(self.filters) - FILTER_KEYS)}; use {sorted(FILTER_KEYS)}")
        if len(self.conflict) == 1:
            raise ValueError("a conflict needs at least two sides")
        if any(not forms or not all(f.strip() for f in forms) for forms in [*self.facts, *self.dates]):
            raise ValueError("every fact needs at least one non-empty surface form")
        if any(not q.strip() for q in self.evidence):
            raise ValueError("evidence quotes must be non-empty")
        return self


FILTER_KEYS = frozenset({"outlet", "since", "until", "lang"})


def load_dataset(path: Path) -> list[EvalCase]:
    """Cases of one JSONL file; ``InputError`` names the line of a bad or duplicate case."""
    cases: list[EvalCase] = []
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            case = EvalCase.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path.name}:{no}: not valid JSON ({exc.msg})") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "case"
            raise InputError(f"{path.name}:{no}: {where}: {first['msg']}") from None
        if case.id in seen:
            raise InputError(f"{path.name}:{no}: duplicate case id {case.id!r}")
        seen.add(case.id)
        cases.append(case)
    if not cases:
        raise InputError(f"{path}: no cases")
    return cases


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class DatasetInfo(BaseModel):
    name: str
    path: str
    sha256: str
    cases: int = Field(description="Cases in the file.")
    run: int = Field(description="Cases run (fewer with --limit).")


def load_datasets(
    paths: Sequence[Path], limit: int | None = None, keep: Callable[[EvalCase], bool] | None = None
) -> tuple[list[DatasetInfo], dict[str, list[EvalCase]]]:
    """Each file's cases keyed by the file's stem: those ``keep`` accepts (all when None), then the first ``limit``."""
    infos: list[DatasetInfo] = []
    cases: dict[str, list[EvalCase]] = {}
    for path in paths:
        name = path.stem
        if name in cases:
            raise InputError(f"two datasets are named {name!r}; rename one file")
        all_cases = load_dataset(path)
        chosen = [c for c in all_cases if keep is None or keep(c)]
        cases[name] = chosen[:limit] if limit else chosen
        infos.append(
            DatasetInfo(name=name, path=str(path), sha256=file_sha256(path), cases=len(all_cases), run=len(cases[name]))
        )
    return infos, cases
