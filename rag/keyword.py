"""BM25 over CJK bigrams and Latin words, built in memory from the store's chunks.

Built from whatever the Chroma collection holds (local or server), so it is
always consistent with the vectors. Each term's postings are kept as numpy
arrays of chunk numbers and precomputed BM25 term weights, so a query costs a
few vector additions per term rather than a Python loop over every matching
chunk (which dominated retrieval at 7,500 chunks). Queries are expanded with
glossary names in the other script. Ranking only: fusion and thresholds live
in ``retrieve``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np

from rag.glossary import expansions
from rag.text import keyword_tokens


class KeywordIndex:
    """Okapi BM25 (k1=1.2, b=0.75) with inverted postings."""

    def __init__(self, ids: list[str], texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.ids = ids
        self.k1, self.b = k1, b
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths: list[int] = []
        for i, text in enumerate(texts):
            counts = Counter(keyword_tokens(text))
            lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                postings[term].append((i, tf))
        self.avg_len = (sum(lengths) / len(lengths)) if lengths else 1.0
        length = np.asarray(lengths, dtype=np.float64)
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # term → (chunk numbers, BM25 tf weights)
        for term, plist in postings.items():
            rows = np.fromiter((i for i, _ in plist), dtype=np.int64, count=len(plist))
            tf = np.fromiter((t for _, t in plist), dtype=np.float64, count=len(plist))
            norm = tf + k1 * (1 - b + b * length[rows] / self.avg_len)
            self.postings[term] = rows, tf * (k1 + 1) / norm

    def __len__(self) -> int:
        return len(self.ids)

    def query_terms(self, question: str) -> list[str]:
        terms = keyword_tokens(question)
        for extra in expansions(question):
            terms.extend(keyword_tokens(extra))
        return list(dict.fromkeys(terms))

    def search(self, question: str, top: int) -> list[tuple[str, float]]:
        """Best ``top`` chunk ids with BM25 scores (only those with a match)."""
        n = len(self.ids)
        scores = np.zeros(n, dtype=np.float64)
        for term in self.query_terms(question):
            posting = self.postings.get(term)
            if posting is None:
                continue
            rows, weights = posting
            idf = math.log(1 + (n - len(rows) + 0.5) / (len(rows) + 0.5))
            scores[rows] += idf * weights  # a term occurs once per chunk's postings: no repeated rows
        matched = np.flatnonzero(scores > 0)
        if matched.size > top:  # keep every chunk tied with the last place, then sort
            cut = np.partition(scores[matched], matched.size - top)[matched.size - top]
            matched = matched[scores[matched] >= cut]
        best = matched[np.argsort(-scores[matched], kind="stable")][:top]  # ties: earlier chunk first
        return [(self.ids[i], float(scores[i])) for i in best]
