"""The eval runner end to end on a few cases with the real offline chain, the reports, compare and the gate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.errors import ConfigError
from rag.evaluation import gate, report, tables
from rag.evaluation.command import eval_command
from rag.evaluation.datasets import load_dataset, load_datasets
from rag.evaluation.metrics import METRICS, make_similarity_embeddings
from rag.evaluation.render_md import render_markdown
from rag.evaluation.runner import (
    BASELINE,
    DEFAULT,
    CaseResult,
    EvalRun,
    build_systems,
    run_eval,
    subset_keys,
)
from rag.evaluation.totals import totals_by_system
from rag.factory import build_chain

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT / "evals" / "datasets"


def pick(path: Path, ids: list[str]) -> list[dict]:
    rows = {json.loads(line)["id"]: json.loads(line) for line in path.read_text().splitlines() if line.strip()}
    return [rows[i] for i in ids]


@pytest.fixture
def small_dataset(tmp_path: Path) -> Path:
    rows = pick(DATASETS / "corpus.jsonl", ["c001", "c002", "c063", "c081"])
    rows += pick(DATASETS / "ft_summary.jsonl", ["ft-q1-en"])
    html_case = {**rows[0], "id": "html", "question": "What did <b>Musk</b> offer for OpenAI & what happened?"}
    too_long = {**rows[0], "id": "too-long", "question": "x" * 10_001}  # the chain raises InputError
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [*rows, html_case, too_long]))
    return path


def test_run_writes_three_reports_with_pipeline_and_baseline(settings_factory, small_dataset: Path, tmp_path: Path) -> None:
    settings = settings_factory(openai_api_key="sk-secret-never-written")
    systems = build_systems(settings, baseline=False)
    # A stand-in for the naive baseline (dense-only over the same index), so this
    # test does not build a second index; the real one is run by `rag eval --baseline`.
    systems[BASELINE] = build_chain(settings, signals=("dense",))
    infos, cases = load_datasets([small_dataset])
    ticks: list[int] = []
    run = run_eval(systems, infos, cases, settings=settings, k=5, similarity=make_similarity_embeddings(),
                   progress=lambda: ticks.append(1))
    n = len(load_dataset(small_dataset))
    assert len(ticks) == len(run.cases) == 2 * n
    assert run.systems == [DEFAULT, BASELINE] and run.models["chat_model"] == "extractive"

    rows = {r.id: r for r in run.rows(DEFAULT)}
    assert rows["too-long"].error and rows["too-long"].error.startswith("InputError")
    assert not rows["too-long"].passed and rows["too-long"].fail_reasons[0].startswith("error:")
    assert rows["c063"].history and rows["c063"].standalone_question != rows["c063"].user_input
    c001 = rows["c001"]
    assert c001.response and c001.retrieved_context_ids and c001.retrieved_doc_ids
    assert c001.metrics["doc_hit"] == 1.0 and "answer_similarity" in c001.metrics
    assert set(c001.metrics) >= {"doc_recall", "passage_ndcg", "context_precision", "fact_recall", "quote_check"}
    assert rows["c081"].answerable is False and "doc_hit" not in rows["c081"].metrics
    for row in run.cases:
        if not row.error:
            assert row.passed == (not row.fail_reasons)

    overall = run.totals[DEFAULT].overall
    assert overall.cases == n and overall.errors == 1
    assert overall.metrics["error_rate"] == pytest.approx(1 / n)
    assert overall.counts["doc_hit"] == 5  # answerable cases that ran
    assert set(run.totals[DEFAULT].by_dataset) == {"small"}
    assert overall.metrics["input_tokens"] is None and overall.metrics["cost_usd"] is None  # extractive: no usage
    assert set(overall.metrics) <= set(METRICS)

    paths = report.write_reports(run, tmp_path / "out")
    data = json.loads(paths["json"].read_text())
    assert EvalRun.model_validate(data).totals[BASELINE].overall.cases == n
    assert "sk-secret" not in paths["json"].read_text()
    assert "openai_api_key" not in data["settings"] and data["settings"]["k"] == 5
    assert data["datasets"][0]["sha256"] and data["models"]["similarity_model"]
    assert {"user_input", "response", "reference", "retrieved_context_ids", "reference_doc_ids"} <= set(data["cases"][0])

    md = paths["md"].read_text()
    assert "## Answerers side by side (all split)" in md and "Δ default − baseline" in md
    assert "| doc hit@5 |" in md and "## Failures: default" in md and "small/too-long" in md
    assert "## Per category (tag)" in md and "| cross-lingual |" in md

    page = paths["html"].read_text()
    assert page.startswith("<!doctype html>") and "<style>" in page
    assert not re.search(r"<script|<link|<img|<iframe|\ssrc=", page, re.I), "the page must be self-contained"
    assert "&lt;b&gt;Musk&lt;/b&gt;" in page and "<b>Musk</b>" not in page
    assert page.count("<details id='case-small-") == n
    assert "Passages" in page and "Citations" in page and "Gold answer" in page
    assert "Scores per answerer (0–1)" in page and "score (0–1) →" in page and "<th>definition</th>" in page
    if any(r.missed_facts for r in run.cases):
        assert "Missed facts" in page


# ---- compare and flips -------------------------------------------------------------------


def fake_row(case_id: str, passed: bool, recall: float, system: str = DEFAULT, split: str | None = None) -> CaseResult:
    return CaseResult(
        system=system, dataset="d", id=case_id, split=split, tags=[], user_input=f"question {case_id}", history=[],
        reference="gold", answerable=True, language="en", response="answer", refused=False,
        reference_doc_ids=["a"], reference_contexts=["q"], facts=[["x"]], metrics={"fact_recall": recall},
        passed=passed, fail_reasons=[] if passed else ["missed 1/1 facts"], latency_ms=10.0,
    )


def fake_run(rows: list[CaseResult]) -> EvalRun:
    return EvalRun(
        created="2025-01-01T00:00:00+00:00", wall_time_s=1.0, k=5, settings={}, models={"chat_model": "x", "embedding_model": "e"},
        datasets=[], systems=[DEFAULT], answerers={DEFAULT: "extractive"}, judged=False,
        totals=totals_by_system(rows, False), cases=rows,
    )


def test_compare_reports_deltas_and_flips() -> None:
    before = fake_run([fake_row("a", True, 1.0), fake_row("b", False, 0.0), fake_row("c", True, 1.0), fake_row("gone", True, 1.0)])
    after = fake_run([fake_row("a", False, 0.0), fake_row("b", True, 1.0), fake_row("c", True, 1.0), fake_row("new", False, 0.0)])
    result = report.compare(after, before, "prev/report.json")
    assert [f["id"] for f in result["flips"]["pass_to_fail"]] == ["a"]
    assert [f["id"] for f in result["flips"]["fail_to_pass"]] == ["b"]
    assert result["flips"]["pass_to_fail"][0]["reasons"] == ["missed 1/1 facts"]
    assert result["only_before"] == 1 and result["only_now"] == 1
    recall = result["metrics"][DEFAULT]["overall"]["fact_recall"]
    assert recall == {"before": 0.75, "after": 0.5, "delta": pytest.approx(-0.25)}
    after.comparison = result
    md = render_markdown(after)
    assert "Pass → fail** (1)" in md and "d/a: question a — now fails: missed 1/1 facts" in md
    assert "d/b: question b — failed before: missed 1/1 facts" in md and "-0.250 (worse)" in md
    assert tables.fmt_delta("latency_p95_ms", -5.0) == "-5 (better)"


# ---- thresholds --------------------------------------------------------------------


def test_thresholds_file_is_checked_strictly(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text("[all.default.min]\nfact_recal = 0.5\n")
    with pytest.raises(ConfigError, match="unknown metric 'fact_recal'"):
        gate.load_thresholds(path)
    path.write_text("[all.default.least]\nfact_recall = 0.5\n")
    with pytest.raises(ConfigError, match="only 'min' and 'max'"):
        gate.load_thresholds(path)
    path.write_text("[overall.min]\nfact_recall = 0.5\n")
    with pytest.raises(ConfigError, match="unknown tables"):
        gate.load_thresholds(path)
    path.write_text("[test.llm.min]\nfact_recall = 0.5\n")
    with pytest.raises(ConfigError, match="only the answerers"):
        gate.load_thresholds(path)
    path.write_text(
        "[all.default.min]\nfact_recall = 0.6\n[all.default.max]\nerror_rate = 0.0\n"
        "[all.default.datasets.other.min]\npass_rate = 1\n[test.extractive.min]\nfact_recall = 0.9\n"
        "[dev.default.min]\nfact_recall = 0.1\n"
    )
    limits = gate.load_thresholds(path)
    run = fake_run([fake_row("a", True, 1.0, split="test"), fake_row("b", False, 0.0, split="dev")])
    failures, skipped = gate.check_thresholds(run, limits)
    # the default answerer is extractive here, so [test.extractive] applies to it, on the test slice only
    assert [(f.scope, f.metric, f.bound, f.value) for f in failures] == [
        ("all · default", "fact_recall", "min", 0.5), ("dev · default", "fact_recall", "min", 0.0)
    ]
    assert skipped == ["all · default · other"]
    assert tables.describe_failure(failures[0]) == "all · default: fact_recall = 0.500, needs ≥ 0.600"
    run.split = "test"  # a test-split run cannot check [all.*] or [dev.*]
    failures, skipped = gate.check_thresholds(run, limits)
    assert set(skipped) == {"all · default", "all · default · other"}
    assert [f.scope for f in failures] == ["dev · default"]  # the run still holds the dev slice's totals
    failures, _ = gate.check_thresholds(run, {"test · default": {"min": {"faithfulness": 0.5}}})
    assert failures[0].value is None, "a threshold on a metric not measured fails"


def test_eval_command_gates_on_thresholds_and_compares(settings_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_factory()
    monkeypatch.setenv("RAG_PERSIST_DIR", str(settings.persist_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(settings.seeds_dir))
    monkeypatch.setenv("RAG_EVAL_RUNS_DIR", str(tmp_path / "runs"))
    strict, loose = tmp_path / "strict.toml", tmp_path / "loose.toml"
    strict.write_text("[all.default.min]\ndoc_hit = 0.5\n[all.default.max]\nlatency_p50_ms = 0.001\n")
    loose.write_text("[all.default.min]\ndoc_hit = 0.5\n[all.default.datasets.corpus.min]\npass_rate = 1.0\n")
    args = ["--dataset", str(DATASETS / "ft_summary.jsonl"), "--limit", "2"]
    runner = CliRunner()

    failed = runner.invoke(eval_command, [*args, "--out", str(tmp_path / "runs" / "r1"), "--thresholds", str(strict)])
    assert failed.exit_code == 1, failed.output
    assert "1 threshold(s) failed" in failed.stderr and "latency_p50_ms" in failed.stderr
    assert "doc hit@5" in failed.stdout and "pass rate" in failed.stdout and "default (extractive)" in failed.stdout
    assert {p.name for p in (tmp_path / "runs" / "r1").iterdir()} == {"report.json", "report.md", "report.html"}
    assert "threshold(s) failed" in (tmp_path / "runs" / "r1" / "report.md").read_text()

    # no --compare: the newest earlier run of the same split is the comparison
    ok = runner.invoke(eval_command, [*args, "--k", "3", "--out", str(tmp_path / "r2"), "--thresholds", str(loose)])
    assert ok.exit_code == 0, ok.output
    assert "skipped: all · default · corpus" in ok.stderr
    assert "doc hit@3" in ok.stdout and "pass → fail:" in ok.stdout and "all thresholds" in ok.stdout
    data = json.loads((tmp_path / "r2" / "report.json").read_text())
    assert data["k"] == 3 and data["comparison"]["previous"].endswith("r1") and data["split"] == "all"

    alone = runner.invoke(eval_command, [*args, "--out", str(tmp_path / "r3"), "--no-compare", "--split", "dev"])
    assert alone.exit_code in (0, 1), alone.output
    data = json.loads((tmp_path / "r3" / "report.json").read_text())
    assert data["comparison"] is None and data["split"] == "dev"
    assert {r["split"] for r in data["cases"]} == {"dev"}

    bad = runner.invoke(eval_command, ["--dataset", str(strict)])
    assert bad.exit_code == 2 and "error:" in bad.stderr


def test_eval_command_help_has_examples() -> None:
    result = CliRunner().invoke(eval_command, ["--help"])
    assert result.exit_code == 0
    for option in ("--dataset", "--out", "--compare", "--no-compare", "--k", "--baseline", "--limit", "--thresholds",
                   "--split", "--llm-subset", "rag eval --baseline", "rag eval --split test"):
        assert option in result.output


def test_old_reports_load_with_pipeline_renamed_default(tmp_path: Path) -> None:
    run = fake_run([fake_row("a", True, 1.0)])
    data = json.loads(run.model_dump_json())
    data["schema_version"] = 1
    data["systems"] = ["pipeline"]
    data["totals"] = {"pipeline": data["totals"][DEFAULT]}
    for row in data["cases"]:
        row["system"] = "pipeline"
    (tmp_path / "report.json").write_text(json.dumps(data))
    loaded = report.load_report(tmp_path)
    assert loaded.systems == [DEFAULT] and list(loaded.totals) == [DEFAULT] and loaded.rows()[0].id == "a"
    (tmp_path / "report.json").write_text("[1]")
    with pytest.raises(ConfigError, match="not a report.json"):
        report.load_report(tmp_path)


def test_llm_subset_is_fixed_and_a_prefix_of_the_hash_order() -> None:
    cases = {"corpus": load_dataset(DATASETS / "corpus.jsonl")}
    ten = subset_keys(cases, 10)
    assert len(ten) == 10 and ten == subset_keys(cases, 10) and subset_keys(cases, 5) == ten[:5]


def test_tokens_and_cost_when_the_model_reports_usage(settings_factory) -> None:
    from openai_server import ScriptedOpenAI

    from rag.evaluation.runner import aggregate, run_system

    by_id = {c.id: c for c in load_dataset(DATASETS / "corpus.jsonl")}
    todo = {"corpus": [by_id["c001"], by_id["c002"]]}
    with ScriptedOpenAI() as server:
        server.default = "Musk offered 974亿美元 for OpenAI [1]."
        for model, priced in (("openai:gpt-4o-mini", True), ("openai:my-local-model", False)):
            settings = settings_factory(chat_model=model, openai_base_url=server.base_url, max_retries=0)
            rows = run_system("pipeline", build_chain(settings), todo, k=5)
            assert all(r.usage is not None and r.usage.input_tokens == 50 for r in rows), [r.error for r in rows]
            totals = aggregate(rows, judged=False)
            assert totals.metrics["input_tokens"] == 100
            assert (totals.metrics["cost_usd"] is not None) == priced
            if priced:
                out = sum(r.usage.output_tokens for r in rows if r.usage)
                assert totals.metrics["cost_usd"] == pytest.approx((100 * 0.15 + out * 0.60) / 1e6)


def test_a_filter_case_runs_with_its_filters_inside_retrieval(settings_factory) -> None:
    from rag.evaluation.runner import case_filters, run_system

    case = next(c for c in load_dataset(DATASETS / "news.jsonl") if c.filters.get("outlet") == "界面新闻")
    assert case_filters(case.filters).outlet == ["界面新闻"]
    (row,) = run_system("default", build_chain(settings_factory()), {"news": [case]}, k=5)
    assert row.metrics.get("filter_compliance") == 1.0


def test_an_llm_default_runs_beside_extractive_on_a_fixed_subset(settings_factory) -> None:
    from openai_server import ScriptedOpenAI

    by_id = {c.id: c for c in load_dataset(DATASETS / "corpus.jsonl")}
    cases = {"corpus": [by_id["c001"], by_id["c002"], by_id["c081"]]}
    with ScriptedOpenAI() as server:
        server.default = "Musk offered 974亿美元 for OpenAI [1]."
        settings = settings_factory(chat_model="openai:gpt-4o-mini", openai_base_url=server.base_url, max_retries=0)
        systems = build_systems(settings, baseline=False)
        assert list(systems) == [DEFAULT, "extractive"] and systems["extractive"].extractive
        run = run_eval(systems, [], cases, settings=settings, k=5, similarity=make_similarity_embeddings(), llm_subset=2)
    assert len(run.rows(DEFAULT)) == 2 and len(run.rows("extractive")) == 3
    assert run.llm_subset == subset_keys(cases, 2)
    assert {r.key for r in run.rows(DEFAULT)} == set(run.llm_subset)
    assert run.totals["extractive@llm-subset"].overall.cases == 2, "extractive also totalled on the LLM's cases"
    header, _ = tables.headline(run)
    assert header == ["metric", "default (openai:gpt-4o-mini)", "extractive", "extractive@llm-subset"]
    assert "seconds per question" in render_markdown(run)
