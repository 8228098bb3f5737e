"""The gold datasets are valid: schema, unique ids, evidence verbatim in the cleaned articles, and the split."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from rag.ingest.documents import load_document
from rag.errors import InputError
from rag.evaluation.datasets import EvalCase, load_dataset
from rag.evaluation.splits import SPLITS, assign, load_splits, stratum
from rag.evaluation.matching import script_of, states_any
from rag.text import detect_language

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT / "evals" / "datasets"
SEEDS = ROOT / "seeds"
FILES = [DATASETS / "ft_summary.jsonl", DATASETS / "corpus.jsonl", DATASETS / "news.jsonl"]
SPLITS_FILE = ROOT / "evals" / "splits.toml"


@cache
def cases(name: str) -> list[EvalCase]:
    return load_dataset(DATASETS / name)


def all_cases() -> list[EvalCase]:
    return [c for f in FILES for c in cases(f.name)]


@cache
def cleaned(doc_id: str) -> str:
    return load_document(SEEDS / f"{doc_id}.txt").text


@cache
def published(doc_id: str) -> str | None:
    return load_document(SEEDS / f"{doc_id}.txt").published


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


def test_news_dataset_covers_what_the_issues_ask_for() -> None:
    news = cases("news.jsonl")
    tagged = lambda tag: [c for c in news if tag in c.tags]  # noqa: E731
    assert len(news) >= 60
    questions = {c.question for c in news}
    assert {"Why did Musk leave OpenAI?", "马斯克为什么离开OpenAI？"} <= questions
    assert {c.language for c in tagged("headline") if "paraphrase" in c.tags} == {"en", "zh"}
    assert len([c for c in news if not c.answerable]) >= 20
    assert tagged("off-topic") and tagged("near-miss")
    assert len(tagged("date")) >= 10 and all(c.dates for c in tagged("date") if c.answerable)
    assert tagged("publication-date") and tagged("latest") and tagged("comparison") and tagged("zh-facts-en")
    assert len(tagged("zh-hant")) >= 5 and all(c.script == "hant" for c in tagged("zh-hant"))
    assert len([c for c in news if c.history]) >= 6
    assert any(c.filters.get("outlet") == "界面新闻" and c.question == "Why did Musk leave OpenAI?" for c in news)
    money = [c for c in tagged("conflict") if any("4400万" in s.forms for s in c.conflict)]
    assert money and all({"4400万", "4500万"} <= {f for s in c.conflict for f in s.forms} for c in money)
    assert any(c.answerable and not c.evidence for c in news), "a facts-only case (no evidence quotes)"


def test_headline_gold_facts_are_the_three_reasons() -> None:
    by_question = {c.question: c for c in cases("news.jsonl") if not c.filters}
    for question in ("Why did Musk leave OpenAI?", "马斯克为什么离开OpenAI？"):
        facts = by_question[question].facts
        for needed in ("conflict of interest", "2018", "zero", "inside tesla", "control", "reject"):
            assert any(needed in forms for forms in facts), (question, needed)


def test_traditional_questions_are_written_in_traditional_script() -> None:
    for case in all_cases():
        if case.script == "hant":
            assert script_of(case.question) == "hant", case.id
            if case.answerable:
                assert script_of(case.answer) == "hant", case.id


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.id)
def test_case_is_consistent(case: EvalCase) -> None:
    assert detect_language(case.question) == case.language
    if case.answerable:
        assert case.sources and case.facts
        for doc_id in case.sources:
            assert (SEEDS / f"{doc_id}.txt").is_file(), doc_id
        for quote in case.evidence:
            assert any(quote in cleaned(d) for d in case.sources), f"not verbatim in its sources: {quote!r}"
        for side in case.conflict:
            assert side.source in case.sources and side.evidence in cleaned(side.source), side.evidence
            assert states_any(side.evidence, side.forms), f"the quote does not state its figure: {side.evidence!r}"
        # every gold fact and date is stated by its articles (text or, for publication dates, metadata)
        text = " ".join(cleaned(d) + " " + (published(d) or "") for d in case.sources)
        for forms in [*case.facts, *case.dates]:
            assert states_any(text, forms), f"no form of {forms} is in the sources"
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
        ([{**GOOD, "facts": []}], "answerable case needs sources and facts"),
        ([{**GOOD, "conflict": [{"forms": ["1"], "source": "a", "evidence": "q"}]}], "at least two sides"),
        ([{**GOOD, "filters": {"author": "x"}}], "unknown filter"),
        ([{**GOOD, "script": "latin"}], "d.jsonl:1: script"),
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


def test_a_case_with_facts_alone_loads(tmp_path: Path) -> None:
    (case,) = load_dataset(write(tmp_path, [{**GOOD, "evidence": []}]))
    assert case.answerable and case.evidence == [] and case.facts == [["him"]]


# ---- the dev/test split ------------------------------------------------------------------


def test_every_case_is_in_exactly_one_split() -> None:
    splits = load_splits(SPLITS_FILE)
    ids = {c.id for c in all_cases()}
    assert ids <= set(splits), f"not in {SPLITS_FILE.name} (run python -m rag.evaluation.splits): {ids - set(splits)}"


def test_splits_are_balanced_and_both_hold_every_kind_of_case() -> None:
    splits = load_splits(SPLITS_FILE)
    every = all_cases()
    dev = [c for c in every if splits[c.id] == "dev"]
    assert 0.45 <= len(dev) / len(every) <= 0.55
    kinds = {
        "unanswerable": lambda c: not c.answerable, "follow-up": lambda c: bool(c.history),
        "zh": lambda c: c.language == "zh", "en": lambda c: c.language == "en",
        "traditional": lambda c: c.script == "hant", "conflict": lambda c: bool(c.conflict),
        "filters": lambda c: bool(c.filters), "dates": lambda c: bool(c.dates),
    }
    for kind, test in kinds.items():
        for split in SPLITS:
            assert any(test(c) and splits[c.id] == split for c in every), f"no {kind} case in {split}"
    for key in {stratum(c) for c in every}:
        members = [c for c in every if stratum(c) == key]
        devs = sum(splits[c.id] == "dev" for c in members)
        assert abs(2 * devs - len(members)) <= 1, (key, devs, len(members))


def test_assign_keeps_existing_cases_and_balances_new_ones() -> None:
    every = all_cases()
    fixed = load_splits(SPLITS_FILE)
    assert assign(every, fixed) == fixed, "assigned cases never move"
    fresh = assign(every, {})
    assert fresh == assign(list(reversed(every)), {}), "deterministic, whatever the order"
