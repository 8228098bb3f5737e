"""BM25 over CJK bigrams and Latin words, built in memory from the store's chunks.

Built from whatever the Chroma collection holds (local or server), so it is
always consistent with the vectors. Each term's postings are kept as numpy
arrays of chunk numbers and precomputed BM25 term weights, so a query costs a
few vector additions per term rather than a Python loop over every matching
chunk (which dominated retrieval at 7,500 chunks). The postings are built in
one numpy pass over every (term, chunk) occurrence rather than a Python loop
per pair, since every process start rebuilds them. Queries are expanded with
glossary names in the other script. Ranking only: fusion and thresholds live
in ``retrieve``.
"""

from __future__ import annotations

import math

import numpy as np

from rag.retrieval.glossary import expansions
from rag.answer.relations import relation_terms
from rag.text import keyword_tokens


class KeywordIndex:
    """Okapi BM25 (k1=1.2, b=0.75) with inverted postings."""

    def __init__(self, ids: list[str], texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.ids = ids
        self.k1, self.b = k1, b
        vocab: dict[str, int] = {}
        term_ids: list[int] = []
        lengths: list[int] = []
        for text in texts:
            tokens = keyword_tokens(text)
            term_ids.extend([vocab.setdefault(t, len(vocab)) for t in tokens])
            lengths.append(len(tokens))
        n = len(texts)
        length = np.asarray(lengths, dtype=np.float64)
        self.avg_len = float(length.mean()) if n else 1.0
        # one (term, chunk) pair per occurrence → unique pairs with their counts, sorted by term then chunk
        pairs = np.asarray(term_ids, dtype=np.int64) * max(n, 1) + np.repeat(np.arange(n, dtype=np.int64), lengths)
        keys, counts = np.unique(pairs, return_counts=True)
        terms, rows = np.divmod(keys, max(n, 1))
        tf = counts.astype(np.float64)
        weights = tf * (k1 + 1) / (tf + k1 * (1 - b + b * length[rows] / self.avg_len))
        starts = np.searchsorted(terms, np.arange(len(vocab) + 1))
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {  # term → (chunk numbers, BM25 tf weights)
            term: (rows[starts[t]:starts[t + 1]], weights[starts[t]:starts[t + 1]]) for term, t in vocab.items()
        }

    def __len__(self) -> int:
        return len(self.ids)

    def knows(self, word: str) -> bool:
        """True when every keyword token of ``word`` occurs in some chunk (a corpus-vocabulary test)."""
        tokens = keyword_tokens(word)
        return bool(tokens) and all(t in self.postings for t in tokens)

    def query_terms(self, question: str) -> list[str]:
        terms = keyword_tokens(question)
        for extra in [*expansions(question), *relation_terms(question)]:  # names, then relation words
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
