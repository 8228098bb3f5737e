"""BM25 over CJK bigrams and Latin words, built in memory from the store's chunks.

Built from whatever the Chroma collection holds (local or server), so it is
always consistent with the vectors. Queries are expanded with glossary names in
the other script. Ranking only: fusion and thresholds live in ``retrieve``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from rag.glossary import expansions
from rag.text import keyword_tokens


class KeywordIndex:
    """Okapi BM25 (k1=1.2, b=0.75) with inverted postings."""

    def __init__(self, ids: list[str], texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.ids = ids
        self.k1, self.b = k1, b
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.lengths: list[int] = []
        for i, text in enumerate(texts):
            counts = Counter(keyword_tokens(text))
            self.lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                self.postings[term].append((i, tf))
        self.avg_len = (sum(self.lengths) / len(self.lengths)) if self.lengths else 1.0

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
        scores: dict[int, float] = defaultdict(float)
        for term in self.query_terms(question):
            posting = self.postings.get(term)
            if not posting:
                continue
            idf = math.log(1 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
            for i, tf in posting:
                norm = tf + self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg_len)
                scores[i] += idf * tf * (self.k1 + 1) / norm
        best = sorted(scores.items(), key=lambda kv: -kv[1])[:top]
        return [(self.ids[i], s) for i, s in best]
