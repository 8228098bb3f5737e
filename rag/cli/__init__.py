"""The ``rag`` command line: ``main`` (the click group and ingest/ask/chat), ``group`` (the one
error rule and lazy subcommands), ``parts`` (settings, store and chain for a command), ``news``
(filters, ``rag timeline``), ``terminal`` (safe output, progress bars) and ``docs`` (docs/cli.md
from the real ``--help``). Commands build their parts through ``rag.factory``; nothing is imported here.
"""
