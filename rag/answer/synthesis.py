"""Synthesis: one model call writes the whole answer from the numbered evidence, streamed.

Used for cloud and server models (a small local model restates instead:
``rag.answer.restate``). The reply's markers go through the citation check; a reply
that is the fixed "not covered" phrase with no marker is a refusal; a reply with no
marker at all shows the evidence, and says so. What it leaves out: choosing the
evidence, and refusing before any call (``rag.answer.refusal``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.runnables import Runnable

from rag.answer.cite import item_citations
from rag.answer.followup import History, messages
from rag.answer.framing import render_evidence
from rag.answer.prompts import CITE_REMINDER, CITE_REMINDER_HANT, FALLBACK_NOTICE, NO_ANSWER
from rag.answer.refusal import declined
from rag.answer.replies import Writer, finish_reason, usage
from rag.models import Answer, Evidence
from rag.retrieval.question import script


def synthesise(
    chain: Runnable, writer: Writer, answer: Answer, question: str, history: History, evidence: Evidence
) -> Iterator[str]:
    """Stream the model's answer; fill ``answer`` (text, citations, usage, refusal, notice)."""
    language = answer.language
    inputs = {
        "evidence": render_evidence(evidence.passages, evidence.items, language),
        "question": question,
        "history": messages(history[-4:]),
        "no_answer": NO_ANSWER[language],
        "cite_reminder": CITE_REMINDER_HANT if script(question) == "Hant" else CITE_REMINDER[language],
    }
    parts: list[str] = []
    final: Any = None
    try:
        for chunk in chain.stream(inputs, writer.config):
            final = chunk if final is None else final + chunk
            text = chunk.content if isinstance(chunk.content, str) else ""
            if text:
                parts.append(text)
                yield text
    except Exception as exc:
        writer.broke_off(answer, exc, bool(parts))
    meta = getattr(final, "response_metadata", None) or {}
    reason = finish_reason(final)
    if parts and meta and not answer.incomplete and reason in (None, "length", "max_tokens"):
        answer.incomplete = True  # the stream ended without "stop": the server died or the length ran out
        answer.notice = (f"incomplete: the model {writer.model} stopped before the end of its answer"
                         f"{' (length limit)' if reason else ''}; try again")
    answer.usage = usage(final)
    raw = drop_repeated_lines("".join(parts).strip())
    if declined(raw):
        answer.refused = True
        answer.answer = NO_ANSWER[language]
        return
    cited = writer.cite(raw, evidence)
    answer.answer, answer.citations, answer.unsupported = cited.text, cited.citations, cited.unsupported
    if not cited.citations and not cited.unsupported:  # no marker at all: show the evidence, and say so
        answer.citations = item_citations(evidence)
        answer.notice = (answer.notice + "; " if answer.notice else "") + FALLBACK_NOTICE[language]


def drop_repeated_lines(text: str) -> str:
    """A small model at temperature 0 can loop on one bullet: keep the first of identical lines."""
    seen: set[str] = set()
    out = []
    for line in text.splitlines():
        key = " ".join(line.split())
        if key and key in seen:
            continue
        seen.add(key)
        out.append(line)
    return "\n".join(out)
