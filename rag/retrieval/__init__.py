"""The retrieval stage: a question → ranked passages, their sentences and the relevance evidence.

``question`` (kind, script, search form), ``translate`` and ``glossary`` (the other language's
search form), ``keyword`` (BM25), ``centred`` (mean-centred candidates), ``filters`` and
``recency`` (which articles, and how new) and ``retrieve`` (the fused ranking). Choosing the
sentences an answer uses is ``rag.answer``'s job. Nothing is imported or loaded here.
"""
