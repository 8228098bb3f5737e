""""Latest" and "when" questions: what kind of time a question asks about, and how to answer it.

- ``question_kind``: ``latest`` ("What is the latest…", "最新进展"), ``when``
  ("When did…", "什么时候", "哪一年") or ``other``, in both languages.
- ``rerank_by_recency``: among the retrieved (already relevant) passages, newer
  articles first; undated ones keep their order after the dated ones, since
  their date is unknown, not old. Passages are renumbered.
- ``as_of_note``: the date a "latest" answer is as of (the newest publication
  date among the sources it cites), or plainly that they give none.
- ``when_note``: for a "when" answer, each date its cited sentences state
  (not the answer's own text), as written (a Chinese date in English words for an English
  answer: 2月29日 → 29 February), with its citation and source.

What it leaves out: retrieval itself, and any date arithmetic (a date with
no year is never given one).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from rag.dates import DateMention, find_dates, source_label
from rag.models import Citation, Language, Passage
from rag.text import has_han


Kind = Literal["latest", "when", "other"]

_LATEST = re.compile(
    r"\b(latest|most recent(ly)?|newest|recent(ly)?|current(ly)?|now|nowadays|so far|to date|up to date|"
    r"last (week|month|year)|these days)\b|最新|最近|近期|目前|现在|如今|眼下|当前|至今|迄今",
    re.I,
)
_WHEN = re.compile(
    r"\bwhen\b|\bwhat (year|date|day|month|time)\b|\bwhich (year|date|day|month)\b|\bhow long ago\b|\bsince when\b|"
    r"\b(?:which|what) (?:came|happened|was) (?:first|earlier)\b|哪个(?:在)?先|哪件事先|谁先谁后|先后顺序|"
    r"什么时候|何时|哪一年|哪年|哪天|哪一天|几月|几号|几时|什么时间|日期|哪个月|多久以前",
    re.I,
)


def question_kind(question: str) -> Kind:
    """'latest', 'when' or 'other' (a question asking for both counts as 'latest')."""
    if _LATEST.search(question):
        return "latest"
    return "when" if _WHEN.search(_without_when_clause(question)) else "other"


_AUXILIARY = r"(?:did|does|do|was|were|is|are|will|would|has|have|had|can|could|should|might)\b"
# "When Musk walked out, what did he tell the team…?", "What did he say when he left?": "when" opens a
# clause of the question, which asks "what"; "When did…" and "Since when…" ask when.
_WHEN_CLAUSE = re.compile(rf"\bwhen\s+(?!{_AUXILIARY})[^,?？]+(?:,(?=\s*(?:what|why|how|who|which|where)\b)|(?=[?？]|$))",
                          re.I)
_OTHER_ASKING = re.compile(rf"^\W*(?:(?:and|so|but|then)\W+)?(?:what|why|how|who|which|where|whom|whose)\b(?!\s+(?:year|date|day|month|time)\b)",
                           re.I)


def _without_when_clause(question: str) -> str:
    """``question`` without a "when" clause: one opening it before a comma and another question word,
    or, in a question opening with another question word, one running to its end."""
    lead = _WHEN_CLAUSE.match(question.lstrip())
    if lead and lead.group().rstrip().endswith(","):
        return question.lstrip()[lead.end():]
    if _OTHER_ASKING.match(question):
        return _WHEN_CLAUSE.sub(" ", question)
    return question


def rerank_by_recency(passages: Sequence[Passage]) -> list[Passage]:
    """Newest publication date first (undated after the dated, in their old order); renumbered 1..n."""
    dated = sorted((p for p in passages if p.published), key=lambda p: p.published or "", reverse=True)
    ordered = dated + [p for p in passages if not p.published]
    return [p.model_copy(update={"n": i}) for i, p in enumerate(ordered, start=1)]


def as_of_note(citations: Sequence[Citation], language: Language) -> str:
    """"As of 2024-05-24 (the newest dated source cited, Financial Times [1])." or that none is dated."""
    dated = [c for c in citations if c.published]
    if not dated:
        if language == "zh":
            return "所引用的文章均未注明发布日期，因此无法说明这是截至何时的最新情况。"
        return "None of the cited articles gives a publication date, so the answer cannot say what date it is as of."
    newest = max(dated, key=lambda c: c.published or "")
    outlet = newest.outlet or ("未注明来源" if language == "zh" else "outlet not named")
    if language == "zh":
        return f"以上为截至{newest.published}的情况（所引用文章中最新的发布日期：{outlet}[{newest.n}]）。"
    return f"As of {newest.published} (the newest publication date among the cited sources: {outlet} [{newest.n}])."


def when_note(citations: Sequence[Citation], language: Language) -> str | None:
    """The dates the cited sentences state, as written, each with its [n] and source.

    Only the sources' own sentences: a date the answer's text gives is its own
    reading (a model turned "3 月初", early March, into "March 3rd"), and this
    note says what the articles state. None when no cited sentence states a date.
    """
    by_n = {c.n: c for c in citations}

    def written(d: DateMention) -> str:  # an English answer gives a Chinese date in English: 2月29日 → 29 February
        return d.english if language == "en" and has_han(d.text) else d.text

    found = [(written(d), c.n) for c in citations for d in find_dates(c.quote)]
    if not found:
        return None
    parts = []
    for date, n in dict.fromkeys(found):
        label = source_label(by_n[n], language)
        parts.append(f"{date}[{n}]（{label}）" if language == "zh" else f"{date} [{n}] ({label})")
    if language == "zh":
        return "文章所述日期：" + "；".join(parts) + "。"
    return "Dates as the articles state them: " + "; ".join(parts) + "."
