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


def test_a_chunk_does_not_open_on_a_quote_whose_speaker_is_a_pronoun() -> None:
    """The sentence naming who "he" is opens the chunk too, so the quote and its speaker are one passage."""
    from rag.text import speaker_is_pronoun

    filler = "微软和OpenAI的合作备受瞩目。" * 3  # the quote would open the second chunk
    named = "研究所前首席执行官 Oren Etzioni 在接受采访时谈到了两家公司之间的关系以及未来可能出现的种种问题。"
    text = f"{filler}{named}\n「让他们陷入冲突的是双方都需要赚钱,」他说。「冲突在于他们都将试图用类似的产品赚钱。」" + "此后两家继续合作。" * 12
    chunks = chunk_document(make(text), max_tokens=120, overlap_tokens=10)
    with_quote = [c for c in chunks if "他说" in c.text]
    assert with_quote and all("Oren Etzioni" in c.text for c in with_quote)
    for c in chunks[1:]:
        assert not speaker_is_pronoun(c.text[c.sentences[0][0] : c.sentences[0][1]])
    assert not speaker_is_pronoun("马斯克对 Open AI 的贡献并没有他说的那么大。")
