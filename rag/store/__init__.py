"""The vector store: Chroma collections of chunks and sentences, their generations and embeddings.

``index`` (the read side), ``generations`` (whole-index replacement), ``readers`` (leases that
keep a read generation alive), ``pages`` (paged whole-collection reads), ``language_means``
(per-language mean vectors) and ``embeddings`` (provider strings → LangChain ``Embeddings``).
Writing is the ingest's job (``rag.ingest``). Nothing is imported or loaded here.
"""
