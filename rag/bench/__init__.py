"""``rag bench``: speed, memory and scale figures, each beside its reference in the same run.

Modules, one job each: ``measure`` (timers, percentiles, growth slopes, RSS,
disk size, child processes), ``synthetic`` (larger corpora recombined from the
seeds' own sentences), ``server`` (start, wait for and stop a local Chroma
server), ``ingest`` (phase-timed ingest and re-ingest), ``queries`` (retrieval,
the numpy floor, the naive LangChain baseline, HNSW recall, answers, load),
``runs`` (one whole run: every scale, cold start, targets) and ``command``
(the click command and its table). Nothing is imported or loaded here.

Benchmarks are not tests: nothing here asserts a wall-clock time; the
targets are reported as PASS/MISS with their margins.
"""
