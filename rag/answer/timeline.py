"""A timeline of a topic: the dated events the articles report, oldest first, each cited.

``build_timeline`` uses the chat's retrieval (``Retriever.retrieve``, with a
larger ``k`` and the same ``Filters``) and its citation objects. An event is a
content sentence of a retrieved passage that writes a date (``rag.dates``)
and mentions the topic (a shared glossary name or word); the same sentence
seen in two overlapping chunks is one event. Events keep the date as written
and their partial ISO value; a date with no year is never given one. Events
whose year is known come first, in date order; yearless ones follow, anchored
on their article's publication year (or, when it has none, the latest year the
article writes) and then month and day, and say that the year is not given.
Two events of one kind (founded, sued, left, offered, replied) about the same
names whose dates disagree are both marked ``dated_differently``, with the
other dates listed.

With a model, ``phrase_events`` adds each event's ``summary``: its sentence restated in
the topic's language by the chat's restate prompt, kept only when its figures and names
match the sentence (``rag.answer.faithful``); the quote and citation stay either way.

What it leaves out: relative dates ("9年前") and events the articles do not date.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import BaseModel, Field

from rag.answer.conflicts import names_in
from rag.dates import DateMention, find_dates, source_label
from rag.answer.faithful import faithful
from rag.answer.restate import reply_text, restate_inputs
from rag.retrieval.filters import Filters
from rag.retrieval.question import script
from rag.models import Citation, Language, Passage, Sentence
from rag.retrieval.retrieve import Retriever
from rag.text import detect_language, is_content, keyword_tokens

# A timeline wants breadth: at k=20 the seeds' founding sentence (fused rank 35 for
# "Musk and OpenAI") is missed.
DEFAULT_K = 40
# Kinds of event compared for "dated differently"; other dated sentences are listed, not compared.
EVENT_KINDS: list[tuple[str, re.Pattern[str]]] = [
    # Not 创建: "创建一个盈利性实体" creates a unit inside OpenAI; it founds nothing.
    ("founded", re.compile(r"创立|创办|共同成立|\bfounded|\bco-founded|\bestablished", re.I)),
    ("sued", re.compile(r"起诉|诉讼|\bsued|\blawsuit|\bfiled suit", re.I)),
    ("left", re.compile(r"退出|离开|辞去|\bleft\b|\bresign|\bstepped down|\bquit", re.I)),
    ("offered", re.compile(r"收购|要约|\boffer|\bbid\b|\btakeover", re.I)),
    ("replied", re.compile(r"回应|声明|驳斥|\brepl(y|ied)|\bresponded|\bstatement", re.I)),
]
YEAR_NOT_GIVEN: dict[Language, str] = {"en": "year not given", "zh": "未注明年份"}
MAX_PHRASED = 16  # events a model phrases (four parallel slots: four rounds of short calls)


class TimelineEvent(BaseModel):
    """One dated event: the date as the article writes it, the sentence, and its citation."""

    date: str = Field(description="The date as written, e.g. '2月29日', '2018年', 'on 29 February'.")
    iso: str = Field(description="Partial ISO 8601: '2018', '2024-03-05', '--02-29' (no year given).")
    year_given: bool
    kind: str | None = Field(None, description="founded / sued / left / offered / replied, when recognised.")
    source: str = Field(description="'outlet · publication date' or that the article gives none.")
    citation: Citation
    summary: str | None = Field(None, description="The event in one short sentence of the topic's language, by the "
                                "model (None offline, or when the restatement changed a figure or a name).")
    dated_differently: bool = False
    other_dates: list[str] = Field(default_factory=list, description="How other sentences date the same event.")


class Timeline(BaseModel):
    topic: str
    language: Language
    events: list[TimelineEvent] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    notice: str = "extractive: each event is a quoted sentence"


def _kind(text: str) -> str | None:
    return next((name for name, rx in EVENT_KINDS if rx.search(text)), None)


def _about(topic: str, text: str) -> bool:
    """The sentence mentions the topic: a shared glossary name, else a shared word."""
    names = names_in(topic)
    if names:
        return bool(names & names_in(text)) or _shares_word(topic, text)
    return _shares_word(topic, text)


def _shares_word(topic: str, text: str) -> bool:
    words = {t for t in keyword_tokens(topic) if len(t) > 2 and not t.isdigit()}
    low = text.lower()
    return any(w.lower() in low for w in words)


def _compatible(a: DateMention, b: DateMention) -> bool:
    """Two dates can name the same day: every part both state is equal ('2015' and '2015年12月' can)."""
    pairs = [(a.year, b.year), (a.month, b.month), (a.day, b.day)]
    return all(x is None or y is None or x == y for x, y in pairs)


def _anchor(doc_id: str, passages: Sequence[Passage], sentences: dict[str, list[Sentence]]) -> int:
    """The year a yearless date of this article sorts under: its publication year, else the latest year it writes."""
    published = next((p.published for p in passages if p.doc_id == doc_id and p.published), None)
    if published:
        return int(published[:4])
    years = [d.year for p in passages if p.doc_id == doc_id for s in sentences.get(p.chunk_id, [])
             for d in find_dates(s.text) if d.year]
    return max(years, default=9999)


def build_timeline(
    retriever: Retriever, topic: str, k: int = DEFAULT_K, filters: Filters | None = None
) -> Timeline:
    """The dated events about ``topic`` in the retrieved passages, oldest first."""
    language = detect_language(topic)
    retrieval = retriever.retrieve(topic, k, filters=filters)
    passages = retrieval.passages
    sentences = retrieval.sentences
    found: list[tuple[tuple, DateMention, TimelineEvent]] = []
    seen: set[tuple[str, str]] = set()
    for p in passages:
        for s in sentences.get(p.chunk_id, []):
            text = s.text
            key = (p.doc_id, text.strip())
            if key in seen or not is_content(text) or not _about(topic, text):
                continue
            dates = find_dates(text)
            if not dates:
                continue
            seen.add(key)
            d = dates[0]
            event = TimelineEvent(
                date=d.text, iso=d.iso, year_given=d.year is not None, kind=_kind(text),
                source=source_label(p, language), citation=p.cite(text, (s.start, s.end)),
            )
            order = (0, *d.sort_key) if d.year else (1, _anchor(p.doc_id, passages, sentences), d.month or 0,
                                                     d.day or 0)
            found.append((order, d, event))
    found.sort(key=lambda x: x[0])
    _mark_disagreements(found, language)
    return Timeline(topic=topic, language=language, events=[e for _, _, e in found], passages=passages)


def _mark_disagreements(found: Sequence[tuple[tuple, DateMention, TimelineEvent]], language: Language) -> None:
    """Events of one kind about the same names, dated incompatibly, point at each other."""
    for i, (_, da, a) in enumerate(found):
        for _, db, b in found[i + 1:]:
            if not a.kind or a.kind != b.kind or a.citation.quote == b.citation.quote:
                continue
            shared = names_in(a.citation.quote) & names_in(b.citation.quote)
            if not shared or _compatible(da, db):
                continue
            a.dated_differently = b.dated_differently = True
            a.other_dates.append(f"{b.date} [{b.citation.n}] ({b.source})")
            b.other_dates.append(f"{a.date} [{a.citation.n}] ({a.source})")


def date_text(event: TimelineEvent, language: Language) -> str:
    """The date column: as written, plus "(year not given)" when it has no year."""
    return event.date if event.year_given else f"{event.date} ({YEAR_NOT_GIVEN[language]})"


def phrase_events(
    timeline: Timeline, restate: Runnable, model: str, config: RunnableConfig | None = None
) -> Timeline:
    """A copy of ``timeline`` whose first ``MAX_PHRASED`` events carry the model's one-sentence summary.

    A summary whose figures or names differ from its sentence is dropped (the quote
    stands); a failed call leaves that event quoted and says so in the notice.
    """
    events = timeline.events[:MAX_PHRASED]
    target = "Hant" if script(timeline.topic) == "Hant" else timeline.language

    def one(event: TimelineEvent) -> str | None:
        reply = restate.invoke(restate_inputs(timeline.topic, event.citation.quote, event.source, target), config)
        text = reply_text(reply)
        return text if text and faithful(text, event.citation.quote) else None

    failed = 0
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(one, e) for e in events]
        summaries: list[str | None] = []
        for f in futures:
            try:
                summaries.append(f.result())
            except Exception:  # one event stays quoted; the notice says how many
                summaries.append(None)
                failed += 1
    phrased = [e.model_copy(update={"summary": s}) for e, s in zip(events, summaries)]
    notice = f"events phrased by {model}; each keeps its quoted sentence"
    if failed:
        notice += f"; {failed} could not be phrased (the model failed) and are quoted"
    return timeline.model_copy(update={"events": phrased + timeline.events[MAX_PHRASED:], "notice": notice})
