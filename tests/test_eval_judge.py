"""The LLM judge against a real OpenAI-compatible HTTP server on 127.0.0.1 with scripted replies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openai_server import ScriptedOpenAI

from rag.answer.cite import answer_sentences
from rag.evaluation.datasets import EvalCase, load_dataset
from rag.evaluation.judge import (
    JUDGE_SYSTEM,
    JudgeError,
    JudgeReply,
    make_judge,
    parse_reply,
    score,
)
from rag.evaluation.runner import aggregate, finish, run_system

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "evals" / "datasets" / "corpus.jsonl"


def reply_for(n: int, *, correctness: float = 0.8, faithful: bool = True) -> str:
    statements = [
        {"id": i, "is_claim": i > 1, "faithful": faithful, "supported": True, "supporting_citations": [1]}
        for i in range(1, n + 1)
    ]
    return json.dumps({"statements": statements, "faithfulness_reason": "All quoted.",
                       "correctness": correctness, "correctness_reason": "States the amount."})


# ---- parsing and scoring, no server -------------------------------------------------------


def test_parse_reply_tolerates_fences_and_rejects_malformed() -> None:
    assert parse_reply("```json\n" + reply_for(2) + "\n```").correctness == 0.8
    with pytest.raises(JudgeError, match="not valid JSON"):
        parse_reply('{"statements": [,]}')
    with pytest.raises(JudgeError, match="no JSON object"):
        parse_reply("I think the answer is fine.")
    with pytest.raises(JudgeError, match="correctness"):
        parse_reply(reply_for(1, correctness=4))  # a 1-5 scale is not the asked 0-1


def test_score_computes_faithfulness_and_alce_from_verdicts() -> None:
    claims = [("Header:", []), ("Musk offered.", [1, 2]), ("Altman refused.", [2]), ("Uncited claim.", [])]
    reply = JudgeReply.model_validate({
        "statements": [
            {"id": 1, "is_claim": False, "faithful": False, "supported": False},
            {"id": 2, "faithful": True, "supported": True, "supporting_citations": [1, 5]},
            {"id": 3, "faithful": True, "supported": False, "supporting_citations": []},
            {"id": 4, "faithful": False, "supported": True, "supporting_citations": []},
        ],
        "faithfulness_reason": "r", "correctness": 1, "correctness_reason": "c",
    })
    result = score("judge", claims, reply)
    assert result.faithfulness == pytest.approx(2 / 3)  # the header is no claim
    assert result.citation_recall == pytest.approx(1 / 3)  # an uncited claim is never supported
    assert result.citation_precision == pytest.approx(1 / 3)  # [1] of {[1],[2],[2]}; [5] was not cited
    with pytest.raises(JudgeError, match="expected ids 1..4"):
        score("judge", claims, JudgeReply.model_validate({**reply.model_dump(), "statements": reply.model_dump()["statements"][:3]}))


def test_make_judge_is_optional(settings_factory) -> None:
    assert make_judge(settings_factory()) is None
    with pytest.raises(JudgeError, match="not a judge"):
        make_judge(settings_factory(judge_model="extractive"))


# ---- over HTTP ----------------------------------------------------------------------


def cases(*ids: str) -> dict[str, list[EvalCase]]:
    by_id = {c.id: c for c in load_dataset(CORPUS)}
    return {"corpus": [by_id[i] for i in ids]}


def test_judge_over_http_records_scores_reasons_and_failures(settings_factory, seeds_chain) -> None:
    todo = cases("c001", "c002", "c003", "c081", "c004")
    # The chain is deterministic: count each answer's statements to script the replies.
    counts = {c.id: len(answer_sentences(seeds_chain.ask(c.question).answer)) for c in todo["corpus"]}
    refused = {c.id for c in todo["corpus"] if seeds_chain.ask(c.question).refused}
    with ScriptedOpenAI() as server:
        script = {
            "c001": reply_for(counts["c001"]),
            "c002": "Sure! The answer looks correct to me.",  # malformed: no JSON
            "c003": {"status": 500},
            "c081": reply_for(counts["c081"], correctness=0.0, faithful=False),
            "c004": "```json\n" + reply_for(counts["c004"], correctness=0.5) + "\n```",
        }
        server.replies.extend(script[c.id] for c in todo["corpus"] if c.id not in refused)
        settings = settings_factory(
            judge_model="openai:judge-model", openai_base_url=server.base_url, openai_api_key="sk-test-key",
            max_retries=0, timeout=10,
        )
        judge = make_judge(settings)
        assert judge is not None
        rows = {r.id: r for r in run_system("pipeline", seeds_chain, todo, k=5, judge=judge)}
        finish(list(rows.values()))

    assert len(server.requests) == len(todo["corpus"]) - len(refused)
    body = server.requests[0]["body"]
    assert body["model"] == "judge-model" and body["temperature"] == 0.0
    system, human = body["messages"][0]["content"], body["messages"][1]["content"]
    assert system == JUDGE_SYSTEM.replace("{{", "{").replace("}}", "}")
    assert todo["corpus"][0].question in human and todo["corpus"][0].answer in human and "Cited passages:" in human

    ok = rows["c001"]
    assert ok.judge is not None and ok.judge_error is None
    assert ok.judge.correctness == 0.8 and ok.judge.correctness_reason == "States the amount."
    assert ok.judge.faithfulness == 1.0 and ok.judge.faithfulness_reason == "All quoted."
    assert ok.metrics["faithfulness"] == 1.0 and ok.metrics["citation_recall"] is not None

    bad = rows["c002"]
    assert bad.judge is None and bad.judge_error and "no JSON object" in bad.judge_error
    assert not bad.passed and any(r.startswith("judge error:") for r in bad.fail_reasons)
    http = rows["c003"]
    assert http.judge_error and "HTTP 500" in http.judge_error and "sk-test-key" not in http.judge_error
    assert not http.passed
    assert rows["c004"].judge is not None and rows["c004"].judge.correctness == 0.5

    totals = aggregate(list(rows.values()), judged=True)
    sent = len(todo["corpus"]) - len(refused)
    assert totals.metrics["judge_error_rate"] == pytest.approx(2 / sent)
    assert totals.counts["correctness"] == sent - 2
    assert totals.metrics["correctness"] is not None
