"""Language models: which one answers, the embedded llama.cpp server, and its GGUF files.

``providers`` (``RAG_CHAT_MODEL`` → a chat model or none), ``answerer`` (the default's state),
``embedded`` (llama.cpp's own server, once per process), ``fetch`` (verified GGUF downloads) and
``speed`` (``rag model speed``). Prompts live in ``rag.answer``. Nothing is imported here.
"""
