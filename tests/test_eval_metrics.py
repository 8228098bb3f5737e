"""Unit tests of the deterministic eval metrics on tiny hand-made inputs."""

from __future__ import annotations

import math

import pytest

from rag.answer.cite import has_marker, marker_numbers, resolve, strip_markers, verify
from rag.evaluation import metrics as m
from rag.evaluation import ranking
from rag.models import Answer, Citation, Passage, Usage


def passage(n: int, doc: str, text: str, chunk: str | None = None) -> Passage:
    return Passage(n=n, chunk_id=chunk or f"{doc}#{n:04d}", doc_id=doc, title=doc, text=text, language="en")


def answer(text: str, passages: list[Passage], citations: list[Citation] | None = None, refused: bool = False) -> Answer:
    return Answer(
        question="q", answer=text, refused=refused, language="en", passages=passages,
        citations=citations or [], model="extractive", embedding_model="e",
    )


def cite(p: Passage, quote: str, span: tuple[int, int] | None = None, n: int | None = None) -> Citation:
    start = p.text.find(quote)
    return Citation(
        n=p.n if n is None else n, doc_id=p.doc_id, chunk_id=p.chunk_id, title=p.title, quote=quote,
        span=span or (start, start + len(quote)),
    )


# ---- normalization and matching --------------------------------------------------------


def test_contains_normalizes_chinese_width_case_and_spaces() -> None:
    assert m.contains("投资4500万美元。", "4500 万")  # space removed
    assert m.contains("投资４５００万美元", "4500万")  # NFKC full-width digits
    assert m.contains("He DECLINED the offer.", "declin")
    assert m.contains("据报道，2月10日，投资者", "据报道,2月10日")  # full-width vs ASCII comma
    assert m.contains("$97.4 billion", "97.4billion")
    assert not m.contains("4500万", "4600万")
    assert not m.contains("anything", "  ")


def test_strip_markers_handles_all_marker_forms() -> None:
    assert strip_markers("A [1] B【2】C [1, 3]").split() == ["A", "B", "C"]


# ---- retrieval ----------------------------------------------------------------------


def test_doc_ranking_collapses_duplicates_in_order() -> None:
    ps = [passage(1, "a", "x"), passage(2, "b", "x"), passage(3, "a", "x"), passage(4, "c", "x")]
    assert ranking.doc_ranking(ps, k=5) == ["a", "b", "c"]
    assert ranking.doc_ranking(ps, k=2) == ["a", "b"]


def test_rank_scores_hand_computed() -> None:
    s = ranking.rank_scores(["x", "a", "y", "b"], {"a", "b"}, k=5)
    assert s.hit == 1.0 and s.recall == 1.0 and s.mrr == 0.5
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3)
    assert s.ndcg == pytest.approx(dcg / idcg)
    miss = ranking.rank_scores(["x", "y"], {"a"}, k=5)
    assert (miss.hit, miss.recall, miss.mrr, miss.ndcg) == (0.0, 0.0, 0.0, 0.0)
    perfect = ranking.rank_scores(["a", "b", "x"], {"a", "b"}, k=5)
    assert perfect.ndcg == pytest.approx(1.0) and perfect.mrr == 1.0


def test_rank_scores_penalizes_missing_items_even_when_list_is_short() -> None:
    # Five passages from one document: the collapsed list has one item, but
    # the second gold document is still missing.
    s = ranking.rank_scores(["a"], {"a", "b"}, k=5)
    assert s.recall == 0.5
    assert s.ndcg == pytest.approx(1 / (1 + 1 / math.log2(3)))
    with pytest.raises(ValueError):
        ranking.rank_scores(["a"], set(), k=5)


def test_evidence_ranking_counts_each_quote_once() -> None:
    q1, q2 = "马斯克提出收购", "奥特曼拒绝了"
    ps = [
        passage(1, "d", "无关的内容。"),
        passage(2, "d", f"报道称{q1}，随后{q2}。"),  # both quotes in one passage
        passage(3, "d", f"重复：{q1}。"),  # only an already-seen quote: collapsed
        passage(4, "d", "其他内容。"),
    ]
    ranked = ranking.evidence_ranking(ps, [q1, q2], k=5)
    assert ranked == ["-0", "q0", "q1", "-3"]
    s = ranking.rank_scores(ranked, ranking.evidence_ids([q1, q2]), k=5)
    assert s.hit == 1.0 and s.recall == 1.0 and s.mrr == 0.5
    # Both quotes in the top passage is a perfect ranking.
    top = ranking.rank_scores(ranking.evidence_ranking(ps[1:], [q1, q2], k=5), {"q0", "q1"}, k=5)
    assert top.ndcg == pytest.approx(1.0)
    assert ranking.passage_relevance(ps, [q1, q2], k=5) == [False, True, True, False]
    # k cuts before the passage with evidence.
    assert ranking.rank_scores(ranking.evidence_ranking(ps, [q1], k=1), {"q0"}, k=1).hit == 0.0


def test_context_precision_matches_ragas_definition() -> None:
    assert ranking.context_precision([True, False, True]) == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert ranking.context_precision([False, True]) == pytest.approx(0.5)
    assert ranking.context_precision([False, False]) == 0.0
    assert ranking.context_precision([True, True]) == 1.0


# ---- answer -------------------------------------------------------------------------


def test_fact_recall_bilingual_surface_forms_and_missed_facts() -> None:
    facts = [["4500万", "45 million"], ["拒绝", "reject"], ["2月10日", "february 10"]]
    score, missed = m.fact_recall("他们融资 4500 万美元 [1]，但被拒绝了。", facts)
    assert score == pytest.approx(2 / 3)
    assert missed == [["2月10日", "february 10"]]
    score, missed = m.fact_recall("Raised $45 Million on February 10; Altman Rejected it [2].", facts)
    assert score == 1.0 and missed == []
    assert m.fact_recall("anything", []) == (1.0, [])


def test_fact_recall_ignores_citation_markers() -> None:
    assert m.fact_recall("See the passage [1].", [["1"]])[0] == 0.0


def test_answer_language_of_own_text() -> None:
    assert m.answer_language("马斯克提出了收购要约。[1]") == "zh"
    assert m.answer_language("Musk made an offer [1].") == "en"
    # An English header over a quoted Chinese sentence is not an English answer.
    assert m.answer_language("From the articles:\n- 近日,特斯拉创始人埃隆·马斯克向OpenAI发出了一份收购要约。 [1]") == "zh"


class FakeEmbeddings:
    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors
        self.calls: list[list[str]] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(texts)
        return [self.vectors[t] for t in texts]


def test_answer_similarity_is_cosine_in_one_batch() -> None:
    emb = FakeEmbeddings({"a": [3.0, 4.0], "b": [4.0, 3.0], "c": [1.0, 0.0], "d": [0.0, 2.0]})
    sims = m.answer_similarity(emb, ["a [1]", "c", "a"], ["b", "d", "b"])  # type: ignore[arg-type]
    assert sims == pytest.approx([24 / 25, 0.0, 24 / 25])
    assert emb.calls == [["a", "c", "b", "d"]], "each distinct text is embedded once, in one batch"
    assert m.answer_similarity(emb, [], []) == []  # type: ignore[arg-type]


def test_answer_similarity_with_the_real_offline_embedder() -> None:
    emb = m.make_similarity_embeddings()
    same, other = m.answer_similarity(
        emb, ["马斯克出价974亿美元收购OpenAI。", "Microsoft owns 49% of OpenAI."],
        ["Musk offered $97.4 billion to buy OpenAI.", "马斯克出价974亿美元收购OpenAI。"],
    )
    assert -1.0 <= other < same <= 1.0


# ---- citations ----------------------------------------------------------------------


def test_citation_validity_quote_check_and_source_precision() -> None:
    p1 = passage(1, "a", "First sentence. Musk made an offer.")
    p2 = passage(2, "b", "Altman said no.")
    good = answer("Musk made an offer [1]. Altman said no [2].", [p1, p2],
                  [cite(p1, "Musk made an offer."), cite(p2, "Altman said no.")])
    assert m.citation_validity(good) == 1.0
    assert m.quote_check(good) == 1.0
    assert m.citation_source_precision(good, {"a"}) == 0.5
    assert m.citation_source_precision(good, {"a", "b"}) == 1.0

    wrong_span = answer("x [1]", [p1], [cite(p1, "Musk made an offer.", span=(0, 5))])
    assert m.quote_check(wrong_span) == 0.0
    dangling = answer("x [1] y [3]", [p1], [cite(p1, "First sentence."), cite(p2, "Altman said no.", n=2)])
    # citation 1 ok, citation 2 has no passage, marker 1 ok, marker 3 resolves to nothing
    assert m.citation_validity(dangling) == pytest.approx(2 / 4)
    assert m.quote_check(dangling) == 0.5
    none = answer("No citations here.", [p1])
    assert m.citation_validity(none) is None and m.quote_check(none) is None
    assert m.citation_source_precision(none, {"a"}) is None


# ---- refusal, latency, cost -----------------------------------------------------------


def test_refusal_scores() -> None:
    # (refused, answerable)
    outcomes = [(True, False), (True, True), (False, False), (False, True), (False, True)]
    s = m.refusal_scores(outcomes)
    assert s == {"refusal_precision": 0.5, "refusal_recall": 0.5, "over_refusal_rate": pytest.approx(1 / 3)}
    assert m.refusal_scores([(False, True)]) == {
        "refusal_precision": None, "refusal_recall": None, "over_refusal_rate": 0.0,
    }


def test_percentiles() -> None:
    values = [10.0, 20.0, 30.0, 40.0, 1000.0]
    assert m.percentile(values, 50) == 30.0
    assert m.percentile(values, 95) == pytest.approx(40 + 0.8 * 960)
    assert m.percentile([], 50) is None


def test_cost_needs_usage_and_a_known_price() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=500_000, total_tokens=1_500_000)
    assert m.estimate_cost("openai:gpt-4o-mini", usage) == pytest.approx(0.15 + 0.30)
    assert m.estimate_cost("gpt-4o-mini", usage) == pytest.approx(0.45)
    assert m.estimate_cost("qwen2.5:7b", usage) is None
    assert m.estimate_cost("openai:gpt-4o-mini", None) is None


def test_every_metric_has_a_label_and_meaning() -> None:
    for name, info in m.METRICS.items():
        assert info.label and info.meaning, name


def test_the_citation_contract_reads_every_marker_form_and_checks_each_citation() -> None:
    assert marker_numbers("A [1] B【2】C [1, 3] D【4，5、6】 [x] [7") == [1, 2, 1, 3, 4, 5, 6]
    assert has_marker("no answer [2") and not has_marker("no answer [x]")
    p1 = passage(1, "a", "First sentence. Musk made an offer.")
    good = cite(p1, "Musk made an offer.")
    assert resolve(good, [p1]) is p1 and verify(good, [p1])
    other_doc = good.model_copy(update={"doc_id": "b"})
    assert resolve(other_doc, [p1]) is None and not verify(other_doc, [p1])
    assert not verify(good.model_copy(update={"quote": "", "span": (0, 0)}), [p1])
