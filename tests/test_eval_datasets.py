"""The gold datasets are valid: schema, unique ids, and evidence verbatim in the cleaned articles."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from rag.documents import load_document
from rag.errors import InputError
from rag.evaluation.datasets import EvalCase, load_dataset
from rag.text import detect_language

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT / "evals" / "datasets"
SEEDS = ROOT / "seeds"
FILES = [DATASETS / "ft_summary.jsonl", DATASETS / "corpus.jsonl"]


@cache
def cases(name: str) -> list[EvalCase]:
    return load_dataset(DATASETS / name)


def all_cases() -> list[EvalCase]:
    return [c for f in FILES for c in cases(f.name)]


@cache
def cleaned(doc_id: str) -> str:
    return load_document(SEEDS / f"{doc_id}.txt").text


def test_files_load_and_ids_are_unique_across_files() -> None:
    ids = [c.id for c in all_cases()]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]


def test_sizes_and_coverage_required_by_the_issue() -> None:
    ft, corpus = cases("ft_summary.jsonl"), cases("corpus.jsonl")
    assert len(ft) == 6 and {c.language for c in ft} == {"en", "zh"}
    assert all(c.sources == ["000_9e7b033fb22a2303"] for c in ft)
    assert len(corpus) >= 50
    assert sum(not c.answerable for c in corpus) >= 8
    assert sum(bool(c.history) for c in corpus) >= 6
    assert any("boilerplate-trap" in c.tags for c in corpus)
    assert any(len(c.sources) > 1 for c in corpus)
    sources = {s for c in all_cases() for s in c.sources}
    assert sources == {p.stem for p in SEEDS.glob("*.txt")}, "every article is asked about"


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
def test_case_is_consistent(case: EvalCase) -> None:
    assert detect_language(case.question) == case.language
    if case.answerable:
        assert case.sources and case.evidence and case.facts
        for doc_id in case.sources:
            assert (SEEDS / f"{doc_id}.txt").is_file(), doc_id
        for quote in case.evidence:
            assert any(quote in cleaned(d) for d in case.sources), f"not verbatim in its sources: {quote!r}"
    else:
        assert case.sources == [] and case.evidence == [] and case.facts == []
    if case.history:
        roles = [t.role for t in case.history]
        assert roles == ["user", "assistant"] * (len(roles) // 2), roles


def write(tmp_path: Path, rows: list[dict | str]) -> Path:
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows))
    return path


GOOD = {
    "id": "x1", "question": "Who?", "answer": "Him.", "sources": ["a"], "evidence": ["q"],
    "facts": [["him"]], "answerable": True, "language": "en",
}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([GOOD, GOOD], "d.jsonl:2: duplicate case id 'x1'"),
        ([GOOD, "{not json"], "d.jsonl:2: not valid JSON"),
        ([{**GOOD, "answerable": False}], "unanswerable case must have empty"),
        ([{**GOOD, "evidence": []}], "answerable case needs"),
        ([{**GOOD, "facts": [[]]}], "at least one non-empty surface form"),
        ([{**GOOD, "language": "fr"}], "d.jsonl:1: language"),
        ([{**GOOD, "extra": 1}], "d.jsonl:1: extra"),
        ([{**GOOD, "history": [{"role": "bot", "content": "x"}]}], "history.0.role"),
        ([], "no cases"),
    ],
)
def test_load_dataset_rejects_bad_cases_with_line_numbers(tmp_path: Path, rows: list, message: str) -> None:
    with pytest.raises(InputError, match=message.replace(".", r"\.").replace("(", r"\(")):
        load_dataset(write(tmp_path, rows))


def test_load_dataset_skips_blank_lines(tmp_path: Path) -> None:
    assert [c.id for c in load_dataset(write(tmp_path, [GOOD, "", {**GOOD, "id": "x2"}]))] == ["x1", "x2"]
