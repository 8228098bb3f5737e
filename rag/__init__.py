"""rag: a bilingual, citation-grounded news Q&A chatbot.

The package is a pipeline of small modules (documents → chunking → index →
retrieve → chain). Importing it does no work: nothing is loaded or built until
a function is called. The UI lives in ``app.py`` and is never imported here.
"""

__version__ = "0.1.0"
