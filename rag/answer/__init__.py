"""The answer stage: retrieved passages → evidence sentences → a cited answer, streamed.

``evidence`` (the sentences that answer), ``framing`` and ``prompts`` (what the model sees),
``extractive`` (the offline answerer), ``cite`` and ``faithful`` (markers, quotes and their
support), ``conflicts``, ``relations`` and ``news`` (disagreeing sources, dates), ``timeline``
and ``chain`` (the pipeline). Which model answers is ``rag.llm``'s job. Nothing is loaded here.
"""
