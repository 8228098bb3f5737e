"""The news layer of an answer: disagreeing sources, the date a "latest" answer is as of, "when" dates.

``finish`` is the one call the chain makes once an answer's text and
citations are settled (not for refusals). It sets ``Answer.conflicts`` (from
``rag.answer.conflicts``, on all retrieved sentences, kept when they bear on the
question), cites every side of a conflict, and returns the text to append:
the attributed conflict sentence, and for "latest" questions the date the
answer is as of, for "when" questions the dates the cited sentences state,
with their sources (``rag.retrieval.recency``). ``no_match`` is the answer when filters
leave no passage.

What it leaves out: retrieval, prompts and the answer text itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.answer import conflicts as disputes
from rag.retrieval.filters import NO_MATCH, Filters
from rag.models import Answer, Passage, Sentence
from rag.retrieval.recency import Kind, as_of_note, question_kind, when_note


def finish(
    answer: Answer, question: str, passages: Sequence[Passage], sentences: dict[str, list[Sentence]],
    kind: Kind | None = None,
) -> str:
    """Fill ``answer.conflicts`` (and their citations); return the text to append ('' for none)."""
    if answer.refused:
        return ""
    lang = answer.language
    kind = kind or question_kind(question)
    found = disputes.for_question(question, passages, sentences, [c.quote for c in answer.citations], lang)
    answer.conflicts = found
    by_n = {p.n: p for p in passages}
    for c in found:
        for side in c.sides:
            if not any(x.n == side.n and x.quote == side.quote for x in answer.citations) and side.n in by_n:
                answer.citations.append(by_n[side.n].cite(side.quote, side.span))
    notes = [disputes.describe(found, lang)] if found else []
    if kind == "latest":
        notes.append(as_of_note(answer.citations, lang))
    elif kind == "when":
        note = when_note(answer.citations, lang)
        if note:
            notes.append(note)
    if not notes:
        return ""
    extra = "\n\n" + "\n".join(notes)
    answer.answer += extra
    return extra


def no_match(answer: Answer, filters: Filters | None) -> bool:
    """Turn ``answer`` into the "no articles match these filters" reply when filters left no passage."""
    if filters is None or not filters.active or answer.passages:
        return False
    answer.refused = True
    answer.answer = NO_MATCH[answer.language]
    answer.notice = f"filters: {filters.describe()}"
    return True
