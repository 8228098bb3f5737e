"""``rag bench``: speed, memory and scale figures, each beside its reference in the same run.

Modules, one job each: ``measure`` (timers, percentiles, growth slopes, RSS,
disk size, child processes), ``synthetic`` (larger corpora recombined from the
seeds' own sentences), ``server`` (start, wait for and stop a local Chroma
server), ``ingest`` (phase-timed ingest and re-ingest), ``questions`` (the
eval datasets' cases, read by the eval's loader), ``exact`` (the numpy
floor), ``queries`` (retrieval beside the floor and the naive LangChain
baseline, HNSW recall), ``answers`` (answers, first piece, threaded load),
``scale`` (one corpus scale built and timed), ``cold_start`` (``rag ask`` as a
fresh process), ``results`` (the JSON records), ``targets`` (growth slopes and
verdicts), ``report`` (the printed table), ``runs`` (one whole run) and
``command`` (the click command). Nothing is imported or loaded here.

Benchmarks are not tests: nothing here asserts a wall-clock time; the
targets are reported as PASS/MISS with their margins.
"""
