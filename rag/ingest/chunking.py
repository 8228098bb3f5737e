"""Split a cleaned document into overlapping chunks of whole sentences.

Sentences end at Chinese and English terminators or line breaks
(``rag.text.sentence_spans``); they are packed greedily up to a token budget
counted with tiktoken, and the last sentences of a chunk (up to the overlap
budget) open the next one. A chunk does not open on a quote whose speaker is a pronoun
("「…,」他说。" after the sentence naming who said it): that sentence opens it too, so the
speaker is in the same passage. A sentence longer than the budget is cut into
pieces. Every chunk is a verbatim slice ``doc.text[start:end]``, so quotes and
spans always point into the real text. Chunk ids are ``<doc_id>#<nnnn>`` with a
content hash beside them for change detection. Embedding is not done here.
"""

from __future__ import annotations

import hashlib

from rag.models import Chunk, Document
from rag.text import detect_language, sentence_spans, speaker_is_pronoun
from rag.tokens import count_tokens

CHUNKER = "2"  # raise when a change to this module cuts the same text differently: ingest then cuts every file again


def _pieces(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence into spans of at most ``max_tokens`` tokens."""
    spans = []
    while start < end:
        window = min(end, start + 16 * max_tokens)  # a token is rarely over 16 characters: count no further
        n = count_tokens(text[start:window])
        if n <= max_tokens:
            spans.append((start, window))
            start = window
            continue
        cut = start + max(1, (window - start) * max_tokens // n)
        while cut > start + 1 and count_tokens(text[start:cut]) > max_tokens:
            cut = start + (cut - start) * 9 // 10
        spans.append((start, cut))
        start = cut
    return spans


def chunk_document(doc: Document, max_tokens: int = 200, overlap_tokens: int = 40) -> list[Chunk]:
    """Pack ``doc``'s sentences into chunks of at most ``max_tokens`` tokens."""
    if overlap_tokens >= max_tokens:
        raise ValueError("overlap_tokens must be smaller than max_tokens")
    text = doc.text
    sents: list[tuple[int, int, int]] = []  # (start, end, tokens)
    for s, e in sentence_spans(text):
        for ps, pe in _pieces(text, s, e, max_tokens):
            sents.append((ps, pe, count_tokens(text[ps:pe])))
    chunks: list[Chunk] = []
    i = 0
    while i < len(sents):
        j = i + 1  # always take one sentence; add more while the span fits
        while j < len(sents) and count_tokens(text[sents[i][0] : sents[j][1]]) <= max_tokens:
            j += 1
        start, end = sents[i][0], sents[j - 1][1]
        body = text[start:end]
        chunks.append(
            Chunk(
                chunk_id=f"{doc.doc_id}#{len(chunks):04d}",
                doc_id=doc.doc_id,
                text=body,
                start=start,
                end=end,
                content_hash=hashlib.sha256(body.encode()).hexdigest()[:16],
                language=detect_language(body),
                sentences=[(s - start, e - start) for s, e, _ in sents[i:j]],
            )
        )
        if j >= len(sents):
            break
        # Step back over trailing sentences that fit the overlap, never to i.
        k, carried = j, 0
        while (k - 1 > i and carried + sents[k - 1][2] <= overlap_tokens
               and count_tokens(text[sents[k - 1][0] : sents[j][1]]) <= max_tokens):
            carried += sents[k - 1][2]
            k -= 1
        # Nor open on a quote whose speaker is a pronoun ("「…,」他说。"): the sentence naming him opens it too.
        while (k - 1 > i and speaker_is_pronoun(text[sents[k][0] : sents[k][1]])
               and count_tokens(text[sents[k - 1][0] : sents[k][1]]) <= max_tokens):
            k -= 1
        i = k
    return chunks
