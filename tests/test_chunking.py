"""Sentence-aware chunking to a tiktoken budget, with overlap and verbatim spans."""

from __future__ import annotations

from pathlib import Path

from rag.ingest.chunking import chunk_document
from rag.ingest.documents import load_document
from rag.models import Document
from rag.tokens import count_tokens

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def make(text: str) -> Document:
    return Document(doc_id="d", title="t", text=text, language="zh", source="x", file_hash="h")


def test_chunks_are_verbatim_slices_within_budget_with_stable_ids() -> None:
    d = load_document(SEEDS / "002_cf0a488ea6d0060a.txt")
    chunks = chunk_document(d, max_tokens=120, overlap_tokens=20)
    assert [c.chunk_id for c in chunks] == [f"002_cf0a488ea6d0060a#{i:04d}" for i in range(len(chunks))]
    for c in chunks:
        assert d.text[c.start : c.end] == c.text
        assert count_tokens(c.text) <= 120
    again = chunk_document(d, max_tokens=120, overlap_tokens=20)
    assert [c.content_hash for c in again] == [c.content_hash for c in chunks]


def test_chunks_cover_the_document_and_overlap() -> None:
    d = load_document(SEEDS / "001_43a1417fc8ec1a8e.txt")
    chunks = chunk_document(d, max_tokens=100, overlap_tokens=30)
    assert chunks[0].start == 0 and chunks[-1].end == len(d.text)
    overlaps = [a.end > b.start for a, b in zip(chunks, chunks[1:])]
    assert any(overlaps)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start <= a.end or d.text[a.end : b.start].strip() == ""


def test_chunks_split_on_chinese_and_english_sentence_ends() -> None:
    text = "马斯克离开了。" * 30 + " He left in 2018. " * 30
    chunks = chunk_document(make(text), max_tokens=40, overlap_tokens=0)
    for c in chunks:
        assert c.text.endswith(("。", "."))


def test_a_sentence_longer_than_the_budget_is_cut() -> None:
    text = "很长的句子没有标点" * 200
    chunks = chunk_document(make(text), max_tokens=50, overlap_tokens=10)
    assert len(chunks) > 5 and all(count_tokens(c.text) <= 50 for c in chunks)


def test_a_chunk_opens_with_the_speaker_of_a_quote_that_says_only_he_said() -> None:
    """"「让他们陷入更多冲突的是双方都需要赚钱,」他说。" opened a chunk whose quote's speaker, Oren Etzioni,
    was named only in the chunk before: no passage held the quote and who said it together. The
    overlap reaches back to the sentence naming the speaker, when it fits the budget."""
    d = load_document(SEEDS / "003_45c7622f861a0cf2.txt")
    chunks = chunk_document(d, max_tokens=200, overlap_tokens=40)
    holding = [c for c in chunks if "他说。「冲突在于" in c.text]
    assert holding and all("Oren Etzioni 告诉《华尔街日报》" in c.text for c in holding), [c.text[:60] for c in holding]
    for c in chunks:
        assert d.text[c.start : c.end] == c.text and count_tokens(c.text) <= 200


def test_a_quote_and_its_speaker_are_told_apart_from_other_sentences() -> None:
    from rag.text import quote_opened_before, quote_runs_on, speaker_before

    zh = ["前首席执行官 Oren Etzioni 告诉《华尔街日报》。", "「让他们陷入更多冲突的是双方都需要赚钱,」他说。",
          "「冲突在于他们都将试图用类似的产品赚钱。」", "另一方面,双方都需要赚钱。"]
    assert [speaker_before(zh, i) for i in range(4)] == [0, 1, 2, 0]
    en = ["The deal drew criticism, Jane Doe told Reuters.", '"It is a mess," she said.', "Shares fell."]
    assert [speaker_before(en, i) for i in range(3)] == [0, 1, 0]
    # "他表示:" names no one after a quote: the speaker is in its own sentence ("之前奥尔特曼的回击…,他表示:“…”")
    assert speaker_before(["马斯克称OpenAI背离了初衷。", "之前奥尔特曼的回击则相对委婉,他表示:“我想马斯克真的很关注AGI的未来。”"], 1) == 0
    quote = ["人工智能顾问Merav Ozair表示:“开源的意义在于建立一个相互学习的社区,从而推动技术更快、更好地发展。",
             "开源总是‘胜利’。”", "随着争论愈演愈烈,开源AI正迅速崛起。"]
    assert [quote_runs_on(quote, i) for i in range(3)] == [1, 0, 0]
    assert quote_runs_on(["他说:“这一句没有结束。", "第二句。", "第三句。", "第四句。"], 0) == 0  # not closed within two
    told = ["或者告诉《纽约时报》的某位记者:「事实上,你的婚姻并不幸福。", "你的配偶和你不爱对方…… 事实上,你爱上我了。」"]
    assert [quote_opened_before(told, i) for i in range(2)] == [0, 1]
    assert quote_opened_before(["“一。", "二。", "三。", "四。", "五。”"], 4) == 0  # opened more than three before
