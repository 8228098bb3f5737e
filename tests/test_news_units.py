"""Fast tests of the news helpers on the real seed text: dates, conflicts, filters, recency, timeline marks.

No index: the seed articles are loaded and split with the production
``load_document`` and ``sentence_spans``. What it leaves out: retrieval and the
chain (``test_news_chain.py``), the Chroma server (``test_chroma_server.py``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rag.answer.conflicts import Evidence, describe, detect, evidence_from, number
from rag.dates import find_dates, normalise_published, published_label, source_label
from rag.ingest.documents import load_document
from rag.errors import InputError
from rag.retrieval.filters import Filters, make_filters, matches, where
from rag.models import Citation, Passage, Sentence
from rag.retrieval.recency import as_of_note, question_kind, rerank_by_recency, when_note
from rag.answer.relations import relation_terms
from rag.text import sentence_spans
from rag.answer.timeline import TimelineEvent, _mark_disagreements

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
DOC_002 = "002_cf0a488ea6d0060a"


def _evidence(doc_id: str, per_passage: int = 8) -> list[Evidence]:
    """Every sentence of a seed article, numbered as if each 8 sentences were one passage."""
    doc = load_document(SEEDS / f"{doc_id}.txt")
    out, before = [], ""
    for i, (s, e) in enumerate(sentence_spans(doc.text)):
        text = doc.text[s:e]
        out.append(Evidence(1 + i // per_passage, text, f"{doc_id}#{i // per_passage:04d}", doc_id, (s, e),
                            doc.outlet, doc.published, before))
        before = text
    return out


# ---- dates ---------------------------------------------------------------------------


def test_seed_publication_dates_and_the_two_that_give_none() -> None:
    got = {p.stem: load_document(p).published for p in sorted(SEEDS.glob("*.txt"))}
    assert got == {
        "000_9e7b033fb22a2303": "2024-05-24", "001_43a1417fc8ec1a8e": "2023-06-05", DOC_002: None,
        "003_45c7622f861a0cf2": "2023-06-17", "004_8dfb9935f69a8e59": None,
    }
    assert published_label(None, "en") == "no date given" and published_label(None, "zh") == "未注明日期"
    assert published_label("2024-05-24", "zh") == "2024-05-24"


@pytest.mark.parametrize(("raw", "iso"), [
    ("2024-05-24T21:00:23.801Z", "2024-05-24"), ("2023.06.17", "2023-06-17"), ("2023年6月5日", "2023-06-05"),
    ("March 5, 2024", "2024-03-05"), ("", None), ("not a date", None), ("2月29日", None),
])
def test_normalise_published(raw: str, iso: str | None) -> None:
    assert normalise_published(raw) == iso


def test_dates_in_the_seed_sentences_keep_the_text_and_never_invent_a_year() -> None:
    doc = load_document(SEEDS / f"{DOC_002}.txt")
    found = {(d.text, d.iso) for d in find_dates(doc.text)}
    assert {("2月29日", "--02-29"), ("3月5日", "--03-05"), ("2018年", "2018"), ("2016—2020年", "2016/2020"),
            ("2023年11月", "2023-11")} <= found
    assert all(not iso.startswith("20") for text, iso in found if "年" not in text)


@pytest.mark.parametrize(("sentence", "expected"), [
    ("Musk sued OpenAI on 29 February.", [("29 February", "--02-29")]),
    ("He left the board in 2018.", [("2018", "2018")]),
    ("OpenAI replied on March 5, 2024, in a blog post.", [("March 5, 2024", "2024-03-05")]),
    ("It raised $45 million in May 2019 and hired 10 people.", [("May 2019", "2019-05")]),
    ("Musk gave more than $44 million.", []),
])
def test_english_dates_as_written(sentence: str, expected: list[tuple[str, str]]) -> None:
    assert [(d.text, d.iso) for d in find_dates(sentence)] == expected


def test_source_label_names_outlet_and_date_or_says_there_is_none() -> None:
    p = Passage(chunk_id="a#0000", doc_id="a", title="t", text="x", language="zh", outlet="界面新闻")
    assert source_label(p, "en") == "界面新闻 · no date given"
    assert source_label(p, "zh") == "界面新闻 · 未注明日期"
    c = p.cite("x", (0, 1))
    assert c.date_label == "no date given" and c.model_dump()["date_label"] == "no date given"


# ---- conflicts -----------------------------------------------------------------------


def test_the_two_figures_for_musks_money_in_002_are_a_conflict_each_attributed() -> None:
    conflicts = detect(_evidence(DOC_002), "en")
    gave = [c for c in conflicts if c.relation == "gave" and c.kind == "money"]
    assert len(gave) == 1
    sides = {s.value: s for s in gave[0].sides}
    assert {"超过4400万美元", "4500万美元"} <= set(sides)
    assert sides["超过4400万美元"].attribution == "Musk says"
    assert sides["4500万美元"].attribution == "the emails Altman published"  # introduced by "通过公开邮件透露:"
    assert sides["超过4400万美元"].amount == 44_000_000 and sides["4500万美元"].amount == 45_000_000
    text = describe(gave, "en")
    assert text.startswith("Sources disagree: ")
    for side in gave[0].sides:
        assert f"{side.value}" in text and f"[{side.n}]" in text
    assert "($45 million)" in text
    zh = describe(detect(_evidence(DOC_002), "zh"), "zh")
    assert "马斯克称超过4400万美元" in zh and "奥特曼公布的邮件为4500万美元" in zh


def test_figures_about_different_things_or_repeated_are_no_conflict() -> None:
    conflicts = detect(_evidence(DOC_002), "en")
    # 300亿美元 (OpenAI's market value) and 超过2000亿美元 (Musk's fortune) are both "valued", but 6.7× apart.
    assert not [c for c in conflicts if c.relation == "valued"]
    same = [Evidence(1, "马斯克累计捐赠了4500万美元。", "a#0", "a", (0, 14)),
            Evidence(2, "马斯克最终捐赠4500万美元给OpenAI。", "b#0", "b", (0, 20))]
    assert detect(same) == []


def test_chinese_numerals_and_percentages() -> None:
    assert number("四十九") == 49 and number("4,400") == 4400 and number("abc") is None
    ev = [Evidence(1, "微软持股49%。", "a#0", "a", (0, 8)), Evidence(2, "据报道，微软的持股为百分之四十九点五。", "b#0", "b", (0, 18))]
    (conflict,) = detect(ev)
    assert conflict.kind == "percent" and [s.amount for s in conflict.sides] == [49.0, 49.5]


def test_evidence_from_passages_keeps_the_sentence_before() -> None:
    p = Passage(n=3, chunk_id="a#0000", doc_id="a", title="t", text="甲。乙。", language="zh")
    sentences = {"a#0000": [Sentence(chunk_id="a#0000", text="甲。", start=0, end=2, language="zh"),
                            Sentence(chunk_id="a#0000", text="乙。", start=2, end=4, language="zh")]}
    ev = evidence_from([p], sentences)
    assert [(e.n, e.text, e.before) for e in ev] == [(3, "甲。", ""), (3, "乙。", "甲。")]


def test_relation_terms_bridge_a_figure_question_to_every_word_of_its_relation() -> None:
    assert "捐赠" in relation_terms("How much money did Musk give OpenAI?")
    assert "给了" in relation_terms("马斯克捐了多少钱？")  # "但最后只给了4500万美元" answers it
    assert relation_terms("马斯克为什么捐钱？") == [] and relation_terms("Why did Musk leave?") == []
    assert relation_terms("What stake does Microsoft hold in OpenAI?") == []  # not a figure question


# ---- filters -------------------------------------------------------------------------


def test_filters_become_a_chroma_where_and_the_same_python_test() -> None:
    f = make_filters(["界面新闻"], "2024-01-01", "2024-12-31", "zh")
    assert where(f) == {"$and": [{"outlet": {"$in": ["界面新闻"]}}, {"published_ts": {"$gte": 20240101}},
                                 {"published_ts": {"$lte": 20241231}}, {"language": {"$eq": "zh"}}]}
    assert where(make_filters(["FT"])) == {"outlet": {"$in": ["FT"]}}
    assert make_filters() is None and where(None) is None
    assert matches({"outlet": "界面新闻", "published_ts": 20240301, "language": "zh"}, f)
    assert not matches({"outlet": "界面新闻", "language": "zh"}, f)  # no date never matches a range
    assert not matches({"outlet": "金色财经", "published_ts": 20240301, "language": "zh"}, f)
    assert matches({"outlet": "x"}, None)


@pytest.mark.parametrize(("args", "message"), [
    ((None, "2024-13-01", None, None), "is not a date"),
    ((None, "2024-06-01", "2024-01-01", None), "is after"),
    ((None, None, None, "fr"), "not supported"),
])
def test_bad_filters_say_what_to_fix(args: tuple, message: str) -> None:
    with pytest.raises(InputError, match=message):
        make_filters(*args)


# ---- latest / when -------------------------------------------------------------------


@pytest.mark.parametrize(("question", "kind"), [
    ("What is the latest on Musk and OpenAI?", "latest"), ("马斯克和OpenAI的最新进展是什么？", "latest"),
    ("When did Musk sue OpenAI?", "when"), ("马斯克什么时候起诉OpenAI？", "when"), ("哪一年OpenAI成立？", "when"),
    ("Why did Musk leave OpenAI?", "other"), ("微软持有OpenAI多少股份？", "other"),
    # "when" opening a clause of a question that asks something else
    ("When Musk walked out, what did he tell the team about money?", "other"),
    ("What did Musk tell the team when he left?", "other"),
    ("Who said AI must not be monopolized, and when?", "when"), ("When and why did Musk leave OpenAI?", "when"),
    ("What year did Musk leave?", "when"), ("Since when has Musk criticised OpenAI?", "when"),
    ("Which came first: the lawsuit or the offer?", "when"), ("起诉和收购要约，哪个先发生？", "when"),
])
def test_question_kind(question: str, kind: str) -> None:
    assert question_kind(question) == kind


def _passage(n: int, published: str | None, outlet: str = "o") -> Passage:
    return Passage(n=n, chunk_id=f"d{n}#0000", doc_id=f"d{n}", title="t", text="x", language="en",
                   published=published, outlet=outlet)


def test_rerank_by_recency_puts_newer_first_and_undated_after() -> None:
    ranked = rerank_by_recency([_passage(1, None), _passage(2, "2023-06-17"), _passage(3, "2024-05-24")])
    assert [p.doc_id for p in ranked] == ["d3", "d2", "d1"] and [p.n for p in ranked] == [1, 2, 3]


def test_as_of_and_when_notes_name_the_date_and_source() -> None:
    cites = [_passage(1, "2023-06-17", "OKEx学院").cite("x", (0, 1)),
             _passage(2, "2024-05-24", "Financial Times").cite("x", (0, 1))]
    assert as_of_note(cites, "en") == ("As of 2024-05-24 (the newest publication date among the cited sources: "
                                       "Financial Times [2]).")
    assert "未注明发布日期" in as_of_note([_passage(1, None).cite("x", (0, 1))], "zh")
    quote = _passage(4, None, "界面新闻").cite("在当地时间2月29日,马斯克提起诉讼。", (0, 10))
    assert when_note([quote], "en") == "Dates as the articles state them: 29 February [4] (界面新闻 · no date given)."
    assert when_note([quote], "zh") == "文章所述日期：2月29日[4]（界面新闻 · 未注明日期）。"
    assert when_note(cites, "en") is None
    early = _passage(2, "2023-06-17", "OKEx学院").cite("3 月初,DuckDuckGo 发布了 DuckAssist。", (0, 10))
    assert when_note([early], "en") == "Dates as the articles state them: March [2] (OKEx学院 · 2023-06-17)."


# ---- timeline marks ------------------------------------------------------------------


def _event(date: str, iso: str, year: int | None, quote: str, n: int) -> tuple:
    from rag.dates import DateMention

    cite = Citation(n=n, chunk_id=f"d{n}#0", doc_id=f"d{n}", title="t", quote=quote, span=(0, len(quote)))
    event = TimelineEvent(date=date, iso=iso, year_given=year is not None, kind="founded", source="s",
                          citation=cite)
    return ((0, year or 0, 0, 0), DateMention(date, 0, len(date), year), event)


def test_events_of_one_kind_dated_incompatibly_are_marked_both_ways() -> None:
    a = _event("2015年", "2015", 2015, "2015年,OpenAI由马斯克等人共同创立。", 1)
    b = _event("2016年", "2016", 2016, "马斯克在2016年创立了OpenAI。", 2)
    c = _event("2015年12月", "2015-12", 2015, "OpenAI于2015年12月由马斯克创立。", 3)  # compatible with a
    _mark_disagreements([a, b, c], "en")
    assert a[2].dated_differently and b[2].dated_differently and c[2].dated_differently
    assert a[2].other_dates == ["2016年 [2] (s)"] and len(b[2].other_dates) == 2
    d = _event("2015年", "2015", 2015, "2015年,OpenAI由马斯克等人共同创立。", 4)
    e = _event("2015年12月", "2015-12", 2015, "OpenAI于2015年12月由马斯克创立。", 5)
    _mark_disagreements([d, e], "en")
    assert not d[2].dated_differently and not e[2].dated_differently


def test_filters_model_describes_itself() -> None:
    f = Filters(outlet=["界面新闻"], since=dt.date(2024, 1, 1))
    assert f.active and f.describe() == "outlet 界面新闻 · since 2024-01-01"
