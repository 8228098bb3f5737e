"""rag: a bilingual, citation-grounded news Q&A chatbot.

The package is a pipeline, one folder per stage: ``ingest`` (files → chunks → a new
generation), ``store`` (the Chroma index, read side), ``retrieval`` (question → passages),
``answer`` (evidence → cited answer) and ``llm`` (which model answers); ``cli``, ``evaluation``
and ``bench`` drive it. Shared types and helpers sit at the top: ``config``, ``factory``,
``models``, ``errors``, ``text``, ``tokens``, ``dates``, ``numbers``, ``redact``. Importing it does no work: nothing is loaded or built until
a function is called. The UI lives in ``app.py`` and is never imported here.
"""

__version__ = "0.1.0"
