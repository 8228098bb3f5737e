"""Citations: number passages for the prompt, parse and check [n] markers, find quotes.

- ``format_context`` renders numbered passages for the prompt.
- ``valid_markers`` removes markers that point at no retrieved passage
  (hallucinated citations are never shown) and normalises 【1】/[1,2] forms.
- ``find_support`` picks, inside a cited passage, the sentence that best
  supports an answer sentence (by sentence-vector cosine when vectors are given,
  else by shared tokens) and returns it verbatim with its character span.
It does not decide what to answer or whether to refuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from rag.dates import source_label
from rag.models import Citation, Passage
from rag.text import char_tokens, sentence_spans

_MARKER_RE = re.compile(r"[\[【]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]】]")


_TAG_RE = re.compile(r"<\s*/?\s*passages\s*>", re.I)


def format_context(passages: Sequence[Passage]) -> str:
    """Numbered passages for the prompt; an article cannot open or close the <passages> block."""
    parts = []
    for p in passages:
        head = f"{p.title} · {source_label(p)}"  # outlet and date, or "no date given"
        parts.append(_TAG_RE.sub("[passages]", f"[{p.n}] {head}\n{p.text}"))
    return "\n\n".join(parts)


def valid_markers(text: str, valid: set[int]) -> tuple[str, list[int]]:
    """Rewrite markers as [n][m], dropping numbers not in ``valid``; return text and cited ns in order."""
    cited: list[int] = []

    def repl(m: re.Match) -> str:
        ns = [int(x) for x in re.split(r"\s*[,，、]\s*", m.group(1))]
        keep = [n for n in ns if n in valid]
        cited.extend(n for n in keep if n not in cited)
        return "".join(f"[{n}]" for n in keep)

    cleaned = _MARKER_RE.sub(repl, text)
    cleaned = re.sub(r"[ \t]+([。．.!?！？,，])", r"\1", cleaned)
    return cleaned, cited


def answer_sentences(text: str) -> list[tuple[str, list[int]]]:
    """Each answer sentence (markers removed) with the passage numbers it cites.

    Markers that open a sentence ("…离开。[2]下一句") belong to the one before.
    """
    out: list[tuple[str, list[int]]] = []
    for s, e in sentence_spans(text):
        chunk = text[s:e]
        lead = re.match(rf"(?:\s*{_MARKER_RE.pattern})+", chunk)
        if lead and out:
            out[-1][1].extend(_numbers(lead.group(0)))
            chunk = chunk[lead.end() :]
        plain = re.sub(r"\s+([.。!?！？,，;；])", r"\1", _MARKER_RE.sub("", chunk)).strip()
        if plain:
            out.append((plain, _numbers(chunk)))
    return out


def _numbers(text: str) -> list[int]:
    return [int(x) for m in _MARKER_RE.finditer(text) for x in re.split(r"\s*[,，、]\s*", m.group(1))]


def _overlap(a: str, b: str) -> float:
    ta, tb = set(char_tokens(a)), set(char_tokens(b))
    return len(ta & tb) / len(ta) if ta else 0.0


def find_support(
    claim: str,
    passage: Passage,
    sentences: list[dict] | None = None,
    claim_vector: Sequence[float] | None = None,
) -> tuple[str, tuple[int, int], float]:
    """The passage sentence that best supports ``claim``: (quote, span, score)."""
    if sentences and claim_vector is not None:
        vectors = np.asarray([s["embedding"] for s in sentences], dtype=np.float32)
        scores = vectors @ np.asarray(claim_vector, dtype=np.float32)
        scores = scores + 0.5 * np.array([_overlap(claim, s["text"]) for s in sentences])
        best = int(np.argmax(scores))
        s = sentences[best]
        return s["text"], (s["start"], s["end"]), float(scores[best])
    spans = sentence_spans(passage.text) or [(0, len(passage.text))]
    scored = [(_overlap(claim, passage.text[s:e]), (s, e)) for s, e in spans]
    score, (s, e) = max(scored, key=lambda x: x[0])
    return passage.text[s:e], (s, e), score


def build_citations(
    text: str,
    passages: Sequence[Passage],
    sentences: dict[str, list[dict]] | None = None,
    embed: Callable[[list[str]], list[list[float]]] | None = None,
) -> tuple[str, list[Citation]]:
    """Check markers against ``passages`` and resolve each cited one to a quote."""
    by_n = {p.n: p for p in passages}
    cleaned, cited = valid_markers(text, set(by_n))
    claims = answer_sentences(cleaned)
    vectors = embed([c for c, _ in claims]) if (embed and sentences and claims) else None
    best: dict[int, tuple[float, str, tuple[int, int]]] = {}
    for i, (claim, ns) in enumerate(claims):
        for n in ns:
            p = by_n[n]
            sents = (sentences or {}).get(p.chunk_id)
            quote, span, score = find_support(claim, p, sents, vectors[i] if vectors else None)
            if n not in best or score > best[n][0]:
                best[n] = (score, quote, span)
    citations = []
    for n in cited:
        p = by_n[n]
        if n not in best:  # cited with no claim text around it: quote the passage's first sentence
            s, e = (sentence_spans(p.text) or [(0, len(p.text))])[0]
            best[n] = (0.0, p.text[s:e], (s, e))
        _, quote, span = best[n]
        citations.append(p.cite(quote, span))
    return cleaned, citations
