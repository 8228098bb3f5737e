"""The ingest path: article files → checked documents → chunks → one new index generation.

``discover`` (which files), ``files`` (bounded, decoded reads), ``documents`` (clean ``Document``
objects or a one-line reason), ``chunking`` (overlapping sentence chunks), ``lock`` (one writer)
and ``run`` (the all-or-nothing write into the store). Reading the index is ``rag.store``'s job.
Nothing is imported or loaded here.
"""
