"""The LLM path over real HTTP: the real openai client and ChatOpenAI against a scripted local server."""

from __future__ import annotations

import pytest

from openai_server import ScriptedOpenAI
from rag.answer.followup import BRIEF_ANSWER
from rag.errors import ModelError
from rag.factory import build_chain
from rag.models import Answer

KEY = "sk-test-SECRET-123456"


@pytest.fixture
def server():
    with ScriptedOpenAI() as s:
        yield s


def chain_for(server: ScriptedOpenAI, settings_factory, **extra):
    settings = settings_factory(
        chat_model="openai:gpt-4o-mini", openai_base_url=server.base_url, openai_api_key=KEY,
        timeout=2, max_retries=0, **extra,
    )
    return build_chain(settings)


def test_streamed_answer_is_cited_and_in_the_question_language(server, settings_factory) -> None:
    server.replies.append("马斯克认为OpenAI成功的可能性为零，因此离开 [1]。他计划在特斯拉内部打造竞争对手 [1]。")
    chain = chain_for(server, settings_factory)
    pieces = list(chain.stream("马斯克为什么离开OpenAI？"))
    answer = pieces[-1]
    assert isinstance(answer, Answer) and len(pieces) > 3  # streamed in several pieces
    assert not answer.refused and answer.language == "zh"
    assert answer.citations and answer.citations[0].n == 1
    c = answer.citations[0]
    passage = answer.passages[0]
    assert passage.text[c.span[0] : c.span[1]] == c.quote
    assert answer.usage and answer.usage.total_tokens > 0
    body = server.requests[-1]["body"]
    assert body["stream"] is True
    system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
    assert "untrusted" in system and "<evidence>\n" not in system  # rules in the system turn, evidence in the user's
    assert "请用简体中文回答" in user and user.count("<evidence>") == 1 and "马斯克" in user
    headers = {k.lower(): v for k, v in server.requests[-1]["headers"].items()}
    assert headers["authorization"] == f"Bearer {KEY}"


def test_markers_to_passages_that_do_not_exist_are_dropped(server, settings_factory) -> None:
    server.replies.append("Microsoft holds 49% of OpenAI [1][9]. It invested billions [42].")
    answer = chain_for(server, settings_factory).ask("How much of OpenAI does Microsoft own?")
    assert "[9]" not in answer.answer and "[42]" not in answer.answer and "[1]" in answer.answer
    assert [c.n for c in answer.citations] == [1]


def test_no_valid_citation_falls_back_to_extractive_sources(server, settings_factory) -> None:
    server.replies.append("Microsoft holds 49% of OpenAI [7].")
    answer = chain_for(server, settings_factory).ask("How much of OpenAI does Microsoft own?")
    assert answer.citations and "cited no passage" in (answer.notice or "")


def test_model_refusal_phrase_marks_the_answer_refused(server, settings_factory) -> None:
    server.replies.append("The articles don't cover this.")
    answer = chain_for(server, settings_factory).ask("Why did Musk leave OpenAI?")
    assert answer.refused and answer.citations == []


@pytest.mark.parametrize(
    "reply, expected",
    [({"status": 500}, "HTTP 500"), ({"status": 429}, "429"), ({"delay": 4, "text": "late"}, "did not answer in time")],
)
def test_server_errors_become_clear_messages_without_the_key(server, settings_factory, reply, expected) -> None:
    server.replies.append(reply)
    with pytest.raises(ModelError) as err:
        chain_for(server, settings_factory).ask("Why did Musk leave OpenAI?")
    assert expected in str(err.value) and KEY not in str(err.value)


def test_dead_server_is_a_clear_error(settings_factory) -> None:
    settings = settings_factory(chat_model="openai:gpt-4o-mini", openai_base_url="http://127.0.0.1:9/v1",
                                openai_api_key=KEY, timeout=2, max_retries=0)
    with pytest.raises(ModelError, match="cannot reach"):
        build_chain(settings).ask("Why did Musk leave OpenAI?")


def test_irrelevant_question_is_refused_without_calling_the_model(server, settings_factory) -> None:
    answer = chain_for(server, settings_factory).ask("How do I bake sourdough bread at home?")
    assert answer.refused and answer.answer.startswith("The articles don't cover this.") and server.requests == []


def test_follow_up_is_condensed_by_the_model_before_retrieval(server, settings_factory) -> None:
    server.replies.extend(["Why did Musk leave OpenAI?", "He thought OpenAI would fail [1]."])
    history = [{"role": "user", "content": "Who is Musk?"}, {"role": "assistant", "content": "An investor."}]
    answer = chain_for(server, settings_factory).ask("Why did he leave?", history)
    assert answer.standalone_question == "Why did Musk leave OpenAI?"
    assert len(server.requests) == 2 and not server.requests[0]["body"].get("stream")


def test_the_condense_call_reads_the_start_of_earlier_answers_without_markers(server, settings_factory) -> None:
    server.replies.extend(["Why did Musk leave OpenAI?", "He thought OpenAI would fail [1]."])
    long = "- Musk offered $97.4 billion. [1]\n- " + "Altman said no. [2] " * 60
    history = [{"role": "user", "content": "How much did Musk offer?"}, {"role": "assistant", "content": long}]
    chain_for(server, settings_factory).ask("Why did he leave?", history)
    sent = server.requests[0]["body"]["messages"][-1]["content"]
    assert sent.startswith("Conversation:\nUser: How much did Musk offer?\nAssistant: ")
    assert sent.endswith("\n\nFollow-up question: Why did he leave?\n\nStandalone question:")
    earlier = sent.split("Assistant: ", 1)[1].split("\n", 1)[0]
    assert earlier.startswith("Musk offered $97.4 billion. Altman said no.") and len(earlier) == BRIEF_ANSWER
    assert "[1]" not in earlier and "- " not in earlier


def test_a_second_question_that_stands_alone_is_not_condensed(server, settings_factory) -> None:
    """"微软持有OpenAI多少股份？" after another question names what it asks about: no condense call, the
    question searched as asked; "微软是通过什么服务来卖的？" (sells what?) names one thing and is condensed."""
    history = [{"role": "user", "content": "Why did Musk leave OpenAI?"}, {"role": "assistant", "content": "x [1]"}]
    chain = chain_for(server, settings_factory)
    evidence, _ = chain.gather("微软持有OpenAI多少股份？", history)
    assert evidence.standalone_question == "微软持有OpenAI多少股份？" and server.requests == []
    server.replies.append("微软是通过什么服务来卖OpenAI的技术的？")
    evidence, _ = chain.gather("微软是通过什么服务来卖的？", history)
    assert "Rewrite the follow-up question" in str(server.requests[0]["body"]["messages"])
    assert evidence.standalone_question == "微软是通过什么服务来卖OpenAI的技术的？"


@pytest.mark.parametrize("rewrite", [
    "他离开了OpenAI，因为他在2014年被推翻了。",  # an answer, not a question (the 1.5B model did this)
    "Why did Musk leave OpenAI?",  # the wrong language
    "他为什么离开了？",  # handed back without what the conversation says "he" is
])
def test_a_rewrite_that_is_not_a_question_in_its_language_is_not_used(server, settings_factory, rewrite) -> None:
    server.replies.append(rewrite)
    history = [{"role": "user", "content": "马斯克在OpenAI早期扮演了什么角色？"}, {"role": "assistant", "content": "捐款人。"}]
    evidence, _ = chain_for(server, settings_factory).gather("那他为什么离开了？", history)
    assert evidence.standalone_question == "马斯克在OpenAI早期扮演了什么角色？ 那他为什么离开了？"  # the offline follow-up


def test_llm_translation_is_searched_and_cached(server, settings_factory) -> None:
    """RAG_TRANSLATION=llm: one translation call per distinct question, its text searched beside the question."""
    server.replies.extend(["马斯克为什么离开OpenAI？", "马斯克认为OpenAI成功的可能性为零 [1]。", "马斯克离开了 [1]。"])
    chain = chain_for(server, settings_factory, translation="llm")
    first = chain.ask("Why did Musk leave OpenAI?")
    evidence, _ = chain.gather("Why did Musk leave OpenAI?")
    chain.ask("Why did Musk leave OpenAI?")
    assert len(server.requests) == 3  # translation, answer, answer: the second translation came from the cache
    asked = str(server.requests[0]["body"]["messages"])
    assert "Translate" in asked and "Why did Musk leave OpenAI?" in asked
    assert evidence.queries == ["Why did Musk leave OpenAI?", "马斯克为什么离开OpenAI？"]
    assert first.standalone_question == "Why did Musk leave OpenAI?" and not first.refused


def test_the_embedded_model_condenses_follow_ups_offline_and_other_models_rewrite_them(server, settings_factory) -> None:
    """RAG_CONDENSE=auto: the embedded/local model's rewrites lost facts the joined questions keep, so its
    follow-ups are joined offline, with no call; any other model rewrites them."""
    from rag.factory import condense_style

    assert condense_style("auto", "local:/m.gguf") == condense_style("auto", "embedded") == "offline"
    assert condense_style("auto", "openai:gpt-4o-mini") == "model" and condense_style("model", "local") == "model"
    history = [{"role": "user", "content": "Who is Musk?"}, {"role": "assistant", "content": "An investor."}]
    evidence, _ = chain_for(server, settings_factory, condense="offline").gather("Why did he leave?", history)
    assert evidence.standalone_question == "Who is Musk? Why did he leave?" and server.requests == []
