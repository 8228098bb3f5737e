"""Citations: the one citation contract: marker syntax, resolution, verification, and support.

- The marker syntax (``MARKER_RE``): ``[n]``, ``【n】`` and lists such as ``[1, 2]``
  or ``[1，2、3]``; ``marker_numbers``, ``strip_markers`` and ``has_marker`` read it.
- ``resolve`` finds the passage a citation names (same n, chunk and document);
  ``quote_verified`` checks its quote is verbatim at its span there; ``verify``
  is both. The chain builds citations that pass; the eval metrics and the
  bench check them with these same functions.
- ``valid_markers`` removes markers that point at no passage holding evidence
  (hallucinated citations are never shown) and normalises 【1】/[1,2] forms.
- ``build_citations`` keeps a marker only where one of its passage's evidence
  sentences supports the claim it follows (``support`` ≥ ``MIN_SUPPORT``); the
  citation quotes that sentence verbatim with its span, and claims left with no
  marker are reported as unsupported.
- ``item_citations`` cites every evidence sentence (the extractive answer).
It does not choose the evidence, decide whether to refuse, or score a run
(the eval's share-of-citations metrics are ``rag.evaluation.metrics``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rag.models import Citation, Evidence, EvidenceItem, Passage, Sentence
from rag.text import char_tokens, detect_language, is_content, sentence_spans

# Least support (mean-centred cosine + half the token overlap) for a marker to stay: chosen on
# the dev split with `python -m rag.evaluation.calibration --what support` (see evals/README.md).
MIN_SUPPORT = 0.26  # dev: 4.1% false keeps, 36% false drops of whole gold answers (the lowest total error)
# The marker syntax: an opening bracket, numbers joined by separators, a closing bracket.
MARKER_RE = re.compile(r"[\[【]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]】]")
_MARKER_START = re.compile(r"[\[【]\s*\d")  # an opening bracket and a number: a marker has begun
_SEPARATOR = re.compile(r"\s*[,，、]\s*")
_MARKER_RUN = re.compile(rf"(?:\s*{MARKER_RE.pattern})+")  # markers side by side, e.g. opening a sentence


def marker_numbers(text: str) -> list[int]:
    """The passage numbers of every marker in ``text``, in order, repeats kept."""
    return [int(x) for m in MARKER_RE.finditer(text) for x in _SEPARATOR.split(m.group(1))]


def strip_markers(text: str, replacement: str = " ") -> str:
    """The text with every marker replaced by ``replacement``."""
    return MARKER_RE.sub(replacement, text)


def has_marker(text: str) -> bool:
    """Whether the text begins any marker, closed or not (a model's answer that cites something)."""
    return _MARKER_START.search(text) is not None


def resolve(citation: Citation, passages: Sequence[Passage]) -> Passage | None:
    """The passage the citation names: same n, chunk_id and doc_id; None when there is none."""
    p = {p.n: p for p in passages}.get(citation.n)
    return p if p is not None and p.chunk_id == citation.chunk_id and p.doc_id == citation.doc_id else None


def quote_verified(citation: Citation, passage: Passage) -> bool:
    """Whether the citation's quote is non-empty and verbatim in ``passage`` at its span."""
    return bool(citation.quote) and passage.text[citation.span[0] : citation.span[1]] == citation.quote


def verify(citation: Citation, passages: Sequence[Passage]) -> bool:
    """The whole check: the citation resolves to one of ``passages`` and its quote is verbatim there."""
    passage = resolve(citation, passages)
    return passage is not None and quote_verified(citation, passage)


def valid_markers(text: str, valid: set[int]) -> tuple[str, list[int]]:
    """Rewrite markers as [n][m], dropping numbers not in ``valid``; return text and cited ns in order."""
    cited: list[int] = []

    def repl(m: re.Match) -> str:
        ns = [int(x) for x in _SEPARATOR.split(m.group(1))]
        keep = [n for n in ns if n in valid]
        cited.extend(n for n in keep if n not in cited)
        return "".join(f"[{n}]" for n in keep)

    cleaned = MARKER_RE.sub(repl, text)
    cleaned = re.sub(r"[ \t]+([。．.!?！？,，])", r"\1", cleaned)
    return cleaned, cited


def answer_sentences(text: str) -> list[tuple[str, list[int]]]:
    """Each answer sentence (markers removed) with the passage numbers it cites.

    Markers that open a sentence ("…离开。[2]下一句") belong to the one before.
    """
    out: list[tuple[str, list[int]]] = []
    for s, e in sentence_spans(text):
        chunk = text[s:e]
        lead = _MARKER_RUN.match(chunk)
        if lead and out:
            out[-1][1].extend(marker_numbers(lead.group(0)))
            chunk = chunk[lead.end() :]
        plain = re.sub(r"\s+([.。!?！？,，;；])", r"\1", strip_markers(chunk, "")).strip()
        if plain:
            out.append((plain, marker_numbers(chunk)))
    return out


def _overlap(a: str, b: str) -> float:
    ta, tb = set(char_tokens(a)), set(char_tokens(b))
    return len(ta & tb) / len(ta) if ta else 0.0


Centre = Callable[[Sequence[float], str], np.ndarray]  # (vector, language) → mean-centred unit vector


def support(claim: str, claim_vector: np.ndarray | None, sentence: Sentence, centre: Centre) -> float:
    """How well ``sentence`` supports ``claim``: the mean-centred cosine of their vectors (raw e5
    cosines sit at 0.75–0.95 for almost any pair) plus half the claim's character-token share found
    in the sentence (names and numbers written alike)."""
    cosine = float(centre(sentence.embedding, sentence.language) @ claim_vector) \
        if claim_vector is not None and sentence.embedding else 0.0
    return cosine + 0.5 * _overlap(claim, sentence.text)


def item_citations(evidence: Evidence) -> list[Citation]:
    """One citation per evidence sentence: the extractive answer's sources."""
    by_n = {p.n: p for p in evidence.passages}
    return [by_n[it.n].cite(it.sentence.text, (it.sentence.start, it.sentence.end)) for it in evidence.items]


@dataclass
class CitedText:
    text: str
    citations: list[Citation] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)  # claims whose markers were all dropped


def build_citations(
    text: str,
    evidence: Evidence,
    embed: Callable[[list[str]], list[list[float]]] | None = None,
    centre: Centre | None = None,
    min_support: float = MIN_SUPPORT,
) -> CitedText:
    """Check every marker against the evidence and keep it only where its sentence supports the claim.

    1. Markers that name no passage holding evidence are removed.
    2. Each answer sentence (a claim) is embedded; for each passage it cites, the best of
       that passage's evidence sentences is found (``support``).
    3. A marker stays when that support reaches ``min_support``; its citation quotes the
       sentence verbatim with its span. A claim that loses all its markers is listed in
       ``unsupported``.
    """
    by_n = {p.n: p for p in evidence.passages}
    items_by_n: dict[int, list[EvidenceItem]] = {}
    for it in evidence.items:
        items_by_n.setdefault(it.n, []).append(it)
    cleaned, _ = valid_markers(text, set(items_by_n))
    pieces = sentence_spans(cleaned)
    claims = []  # (start, end, plain text, marker numbers)
    for s, e in pieces:
        chunk = cleaned[s:e]
        lead = _MARKER_RUN.match(chunk)
        if lead and claims:
            claims[-1][3].extend(marker_numbers(lead.group(0)))
        plain = re.sub(r"\s+([.。!?！？,，;；])", r"\1", strip_markers(chunk, "")).strip()
        plain = re.sub(r"^[-*•]\s+", "", plain)  # a bullet's dash is not part of its claim
        claims.append((s, e, plain, marker_numbers(chunk)))
    vectors = None
    if embed and centre and claims:
        vectors = [centre(v, detect_language(c[2])) for v, c in zip(embed([c[2] or "-" for c in claims]), claims)]
    result = CitedText(text="")
    keep: list[set[int]] = []
    quoted: set[tuple[int, str]] = set()
    for i, (_, _, plain, ns) in enumerate(claims):
        kept: set[int] = set()
        for n in dict.fromkeys(ns):
            # what the model saw of passage n, headings left out: "摘要：" supports no claim
            shown = [s for it in items_by_n[n] for s in it.sentences if s is it.sentence or is_content(s.text)]
            value, best = max(((support(plain, vectors[i] if vectors else None, s, centre or _raw), s)
                               for s in shown),
                              key=lambda x: x[0])
            if value < min_support:
                continue
            kept.add(n)
            if (n, best.text) not in quoted:
                quoted.add((n, best.text))
                result.citations.append(by_n[n].cite(best.text, (best.start, best.end)))
        if ns and not kept and plain:
            result.unsupported.append(plain)
        keep.append(kept)
    out, pos = [], 0
    for i, (s, e, _, _) in enumerate(claims):
        out.append(cleaned[pos:s])
        lead = _MARKER_RUN.match(cleaned[s:e])
        allowed_lead = keep[i - 1] if (lead and i > 0) else keep[i]
        head = _filter_markers(lead.group(0), allowed_lead) if lead else ""
        body = _filter_markers(cleaned[s + (lead.end() if lead else 0):e], keep[i])
        out.append(head + body)
        pos = e
    out.append(cleaned[pos:])
    text = re.sub(r"[ \t]+([。．.!?！？,，])", r"\1", "".join(out))
    result.text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return result


def _raw(vector: Sequence[float], language: str) -> np.ndarray:
    return np.asarray(vector, dtype=np.float32)


def _filter_markers(text: str, allowed: set[int]) -> str:
    return MARKER_RE.sub(lambda m: "".join(f"[{n}]" for n in marker_numbers(m.group(0)) if n in allowed), text)
