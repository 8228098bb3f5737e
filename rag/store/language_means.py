"""Per-language mean sentence vectors: computed once per generation, stored with its commit.

The retriever centres question and sentence vectors on their language's mean so
English and Chinese scores rank together (``rag.retrieval.retrieve``). Computing the
means reads every sentence vector, which at 27,000 sentences took about two
seconds of every process start. So an ingest computes them over the generation
it is about to commit and the commit stores them in the head's metadata
(``rag.store.generations``), as JSON naming that generation; readers take them from
there and compute them only for a store committed before this existed (or when
the stored means belong to another generation). What it leaves out: how the
means are used (``rag.retrieval.retrieve``) and the commit itself.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from rag.store.pages import pages
from rag.text import detect_language

KEY = "language_means"


def compute(sentences: Any) -> dict[str, np.ndarray]:
    """Mean vector per language ('en'/'zh') over every row of a Chroma sentence collection."""
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for page in pages(sentences, ["documents", "embeddings"]):
        for text, vec in zip(page["documents"], page["embeddings"], strict=True):
            lang = detect_language(text)
            sums[lang] = sums.get(lang, 0) + np.asarray(vec, dtype=np.float64)
            counts[lang] = counts.get(lang, 0) + 1
    return {lang: (sums[lang] / counts[lang]).astype(np.float32) for lang in sums}


def encode(generation: int, means: dict[str, np.ndarray]) -> dict[str, str]:
    """Head metadata carrying ``means`` for ``generation`` (float32 values survive JSON exactly)."""
    body = {"generation": generation, "means": {lang: [float(x) for x in v] for lang, v in means.items()}}
    return {KEY: json.dumps(body, separators=(",", ":"))}


def decode(head: dict[str, Any], generation: int) -> dict[str, np.ndarray] | None:
    """The stored means if ``head`` holds them for ``generation``; None otherwise (compute them)."""
    try:
        body = json.loads(head[KEY])
        if body["generation"] != generation:
            return None
        return {lang: np.asarray(v, dtype=np.float32) for lang, v in body["means"].items()}
    except (KeyError, TypeError, ValueError):
        return None
