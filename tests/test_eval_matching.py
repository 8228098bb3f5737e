"""Unit tests of number-aware, script-insensitive fact matching and the metrics built on it."""

from __future__ import annotations

import pytest

from rag.evaluation import metrics as m
from rag.evaluation.datasets import EvalCase
from rag.evaluation.matching import numbers, script_of, states
from rag.evaluation.scoring import filter_compliance, new_row, score_answer
from rag.models import Answer, Citation, Passage


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("He gave $45 million [1].", "4500万"),
        ("最后只给了4,500万美元", "45 million"),
        ("only $45m", "4500万美元"),
        ("捐了四千五百万美元", "4500万"),
        ("a $97.4 billion bid", "974亿"),
        ("about 130 million dollars", "1.3亿"),
        ("微软只占股 49%", "49%"),
        ("为了避免反壟斷審查", "反垄断"),  # Traditional answer, Simplified gold
        ("馬斯克為什麼離開", "马斯克为什么离开"),
        ("in 2018 he left", "2018"),
    ],
)
def test_states_by_value_and_across_scripts(text: str, form: str) -> None:
    assert states(text, form)


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("We could buy Twitter for 97.4亿美元", "974亿"),  # 9.74 billion is not 97.4 billion
        ("He gave 45 dollars", "4500万"),
        ("more than 4400万美元", "4500万"),
        ("1570亿美元", "157 million"),
        ("in 2015", "2018"),
        ("the number 11", "11位"),  # not only a number: matched as text
    ],
)
def test_does_not_state_a_different_number(text: str, form: str) -> None:
    assert not states(text, form)


def test_numbers_reads_chinese_and_english_figures() -> None:
    assert numbers("4500万美元、1.3亿、$45m、2.5 billion、四千五百万") == [4.5e7, 1.3e8, 4.5e7, 2.5e9, 4.5e7]


def test_script_of() -> None:
    assert script_of("微軟持有OpenAI多少股份？") == "hant"
    assert script_of("微软持有OpenAI多少股份？") == "hans"
    assert script_of("OpenAI") is None
    assert m.script_match("微軟只佔股49% [1]", "hant") == 1.0 and m.script_match("微软只占股49%", "hant") == 0.0


def test_fact_recall_is_number_aware() -> None:
    recall, missed = m.fact_recall("Musk gave $45 million [2], not 4400万.", [["4500万"], ["4400万"], ["1亿"]])
    assert recall == pytest.approx(2 / 3) and missed == [["1亿"]]


P44 = Passage(n=1, chunk_id="d#1", doc_id="d", title="t", text="马斯克称累计捐赠超过4400万美元。", language="zh")
P45 = Passage(n=2, chunk_id="d#2", doc_id="d", title="t", text="邮件称他最后只给了4500万美元。", language="zh")
SIDES = [(["4400万", "44 million"], "累计捐赠超过4400万美元"), (["4500万", "45 million"], "最后只给了4500万美元")]


def cite(p: Passage) -> Citation:
    return p.cite(p.text, (0, len(p.text)))


def ans(text: str, citations: list[Citation]) -> Answer:
    return Answer(question="q", answer=text, refused=False, language="en", passages=[P44, P45],
                  citations=citations, model="extractive", embedding_model="e")


def test_conflict_needs_both_sides_stated_and_each_cited() -> None:
    both = "Musk says more than $44 million [1]; the emails say $45 million [2]."
    assert m.conflict_covered(ans(both, [cite(P44), cite(P45)]), SIDES) == 1.0
    assert m.conflict_covered(ans(both, [cite(P44)]), SIDES) == 0.0, "the 45 million side is not cited"
    assert m.conflict_covered(ans("He gave $45 million [2].", [cite(P45)]), SIDES) == 0.0, "one side only"


def test_facts_only_case_skips_passage_metrics_and_scores_dates() -> None:
    case = EvalCase(id="x", question="When?", answer="On 29 February.", sources=["d"], evidence=[],
                    facts=[["2月29日", "29 february"]], dates=[["2月29日", "29 february"]], answerable=True, language="en")
    row = new_row("default", "news", case, "dev")
    score_answer(row, case, ans("He sued on 29 February [1].", [cite(P44)]), k=5, model="extractive")
    assert row.metrics["fact_recall"] == 1.0 and row.metrics["date_recall"] == 1.0 and row.metrics["doc_hit"] == 1.0
    assert "passage_hit" not in row.metrics and "context_precision" not in row.metrics
    assert "conflict_coverage" not in row.metrics and "script_match" not in row.metrics


def test_filter_compliance() -> None:
    dated = P44.model_copy(update={"outlet": "界面新闻", "published": "2024-03-05"})
    undated = P45.model_copy(update={"outlet": "金色财经"})
    assert filter_compliance([dated], {"outlet": "界面新闻", "lang": "zh", "since": "2024-01-01"}) == 1.0
    assert filter_compliance([dated, undated], {"outlet": "界面新闻"}) == 0.0
    assert filter_compliance([undated], {"until": "2025-01-01"}) == 0.0, "an undated article fails a date filter"
    assert filter_compliance([dated], {"until": "2024-03-04"}) == 0.0
    assert filter_compliance([], {"outlet": "Reuters"}) == 1.0
