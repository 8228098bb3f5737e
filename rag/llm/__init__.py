"""Language models: which one answers, the embedded llama.cpp server, and its GGUF files.

``providers`` (``RAG_CHAT_MODEL`` → a chat model or none), ``answerer`` (the default's state),
``openai_chat`` (the one HTTP door, ``ChatOpenAI``), ``embedded`` (llama.cpp's own server, once per
process), ``catalogue`` (the known GGUF files), ``fetch`` (verified downloads), ``speed`` (timing
the answerer), ``failures`` (model errors as one line) and ``command`` (``rag model
fetch|list|speed``). Prompts live in ``rag.answer``.
Nothing is imported here.
"""
