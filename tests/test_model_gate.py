"""The embedded model's own "not covered" when it restates the evidence: one token, yes or no.

Through the chain and a scripted OpenAI-compatible server (real HTTP): the check is the
first call, a non-streaming one-token request with logprobs; a low probability of "yes"
refuses in the question's language without restating anything, a high one goes on to the
restatements, and a server that gives no logprobs (or fails the check) declines nothing.
"""

from __future__ import annotations

import pytest

from openai_server import ScriptedOpenAI
from rag.answer.prompts import NO_ANSWER
from rag.answer.refusal import answer_probability
from rag.factory import build_chain


def _chain(server: ScriptedOpenAI, settings_factory, **extra):
    options = {"generation": "restate", **extra}
    return build_chain(settings_factory(chat_model="openai:gpt-4o-mini", openai_base_url=server.base_url,
                                        openai_api_key="sk-test", timeout=5, max_retries=0, **options))


def _is_check(request: dict) -> bool:
    body = request["body"]
    return body.get("max_completion_tokens", body.get("max_tokens")) == 1 and bool(body.get("logprobs"))


# 年薪 and "salary" are in no article, so "奥特曼的年薪是多少？" and "What salary does Sam Altman earn?" are
# refused before the model is asked (rag.answer.attributes); 个人财富, personal wealth, is (the scripted
# model's "no" is then the last word)
@pytest.mark.parametrize(("question", "language"), [("What is Sam Altman's personal wealth?", "en"),
                                                    ("奥特曼的个人财富有多少？", "zh")])
def test_a_likely_no_refuses_without_restating(settings_factory, question: str, language: str) -> None:
    with ScriptedOpenAI() as server:
        server.replies.append({"text": "no", "logprobs": {"no": 0.95, "yes": 0.05}})
        answer = _chain(server, settings_factory, min_relevance_en=0.0, min_relevance_zh=0.0).ask(question)
    assert answer.refused and answer.answer == NO_ANSWER[language] and not answer.citations
    assert len(server.requests) == 1 and _is_check(server.requests[0])
    assert not server.requests[0]["body"].get("stream") and "Sentences:\n[1] " in \
        server.requests[0]["body"]["messages"][-1]["content"]
    assert answer.usage is not None and answer.usage.input_tokens == 50  # the check's tokens are counted


def test_a_likely_yes_goes_on_to_the_restatements(settings_factory) -> None:
    with ScriptedOpenAI() as server:
        server.replies.append({"text": "no", "logprobs": {"no": 0.6, "yes": 0.4}})  # 0.4 >= 0.20: answered
        server.default = "Musk left the board in 2018."
        answer = _chain(server, settings_factory).ask("Why did Musk leave OpenAI?")
    assert not answer.refused and answer.citations
    assert _is_check(server.requests[0]) and not any(_is_check(r) for r in server.requests[1:])
    retries = [r for r in server.requests if "who says or does what" in r["body"]["messages"][0]["content"]]
    quoted = [line for line in answer.answer.splitlines() if line.startswith("- “")]
    assert len(server.requests) == 1 + len(answer.answer.splitlines()) + len(retries)  # check, one per bullet, retries
    assert len(retries) >= len(quoted)  # a bullet quoted in Chinese was tried twice first


@pytest.mark.parametrize("check_reply", [
    "no",  # a server without logprobs
    {"status": 500},  # the check failed
])
def test_no_probability_declines_nothing(settings_factory, check_reply) -> None:
    with ScriptedOpenAI() as server:
        server.replies.append(check_reply)
        server.default = "Musk left the board in 2018."
        answer = _chain(server, settings_factory).ask("Why did Musk leave OpenAI?")
    assert not answer.refused and answer.citations


def test_the_check_is_off_at_zero_and_with_a_writing_model(settings_factory) -> None:
    with ScriptedOpenAI() as server:
        server.default = "Musk left the board in 2018."
        _chain(server, settings_factory, min_answer_probability=0.0).ask("Why did Musk leave OpenAI?")
        off = list(server.requests)
        server.requests.clear()
        server.default = "Musk left the board in 2018 [1]."
        _chain(server, settings_factory, generation="synthesis").ask("Why did Musk leave OpenAI?")
    assert off and not any(_is_check(r) for r in off)
    assert server.requests and not any(_is_check(r) for r in server.requests)


def test_answer_probability_reads_yes_against_no() -> None:
    from langchain_core.messages import AIMessage

    def reply(top: dict[str, float]) -> AIMessage:
        import math
        tops = [{"token": t, "logprob": math.log(p)} for t, p in top.items()]
        return AIMessage("x", response_metadata={"logprobs": {"content": [{"top_logprobs": tops}]}})

    assert answer_probability(reply({"Yes": 0.3, "No": 0.1, " yes": 0.1, "Maybe": 0.5})) == pytest.approx(0.8)
    assert answer_probability(reply({"Maybe": 1.0})) is None
    assert answer_probability(AIMessage("yes")) is None


def test_the_calibration_counts_the_check_on_top_of_the_thresholds() -> None:
    from rag.evaluation.calibration import gate_table

    points = [(False, True, None), (False, False, 0.1), (False, False, 0.6), (True, False, 0.3), (True, False, None)]
    rows = {t: (recall, over) for t, recall, over in gate_table(points)}
    assert rows[0.0] == (0.333, 0.0)  # only what the thresholds refuse
    assert rows[0.2] == (0.667, 0.0)  # P(yes) 0.1 refused too; no probability never refuses
    assert rows[0.35] == (0.667, 0.5)  # the answerable 0.3 is now refused


def test_the_relevance_thresholds_sit_in_the_middle_of_the_fewest_errors() -> None:
    from rag.evaluation.calibration import Point, chosen_thresholds

    def point(answerable: bool, language: str, relevance: float) -> Point:
        return Point(answerable, language, relevance, 1.0, True)

    points = [point(False, "zh", 0.20), point(False, "zh", 0.26), point(True, "zh", 0.32), point(True, "zh", 0.45),
              point(False, "zh", 0.36),  # an unanswerable case above an answerable one: refusing it costs more
              point(True, "en", 0.28), point(True, "en", 0.50)]
    chosen = chosen_thresholds(points)
    # between 0.26 (refused) and 0.32 (answered), not a hair above 0.26; the tie above 0.36 refuses 0.32
    assert chosen["zh"] == pytest.approx(0.295, abs=0.006)
    assert chosen["en"] == 0.19  # every threshold from 0.10 to 0.28 answers both: the middle


def test_questions_naming_nothing_get_their_own_bar_on_top_of_the_language_ones() -> None:
    """The bar for questions that name no one and nothing is chosen among them, per language, after the language thresholds;
    with no answerable one above to bound it, it sits just above the unanswerable ones, not at the grid's middle."""
    from rag.answer.refusal import RefusalPolicy, unnamed
    from rag.evaluation.calibration import Point, chosen_thresholds

    points = [Point(True, "en", 0.25, 1.0, True), Point(True, "en", 0.40, 1.0, True),
              Point(False, "en", 0.12, 1.0, True),
              Point(False, "en", 0.22, 1.0, True, named=False), Point(False, "en", 0.29, 1.0, True, named=False)]
    chosen = chosen_thresholds(points)
    assert chosen["en"] == pytest.approx(0.24, abs=0.006)  # between 0.22 and the answerable 0.25 (0.29 costs one)
    assert chosen[unnamed("en")] == 0.3 and unnamed("zh") not in chosen  # the lowest that refuses 0.29
    policy = RefusalPolicy(chosen)
    assert policy.refuse_on(True, 0.29, 1.0, "en", named=False) and not policy.refuse_on(True, 0.29, 1.0, "en")
    points.append(Point(True, "en", 0.40, 1.0, True, named=False))
    assert chosen_thresholds(points)[unnamed("en")] == pytest.approx(0.345, abs=0.006)  # bounded by the answerable 0.40
