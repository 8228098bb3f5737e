"""The eval harness: gold datasets in, honest metrics and readable reports out.

Modules, one job each: ``metrics`` (deterministic per-case scores and their
definitions), ``judge`` (the optional LLM judge), ``runner`` (datasets, running
the chains, per-case rows and totals), ``report`` (thresholds, comparison with
a previous run, report.json/.md/.html) and ``command`` (the ``rag eval`` click
command). Nothing is imported or loaded here, so importing the package is free.
"""
