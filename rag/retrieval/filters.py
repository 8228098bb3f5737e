"""Filters on the articles a question may use: outlet, publication date range, language.

``Filters`` is the typed request (from the CLI's ``--outlet/--since/--until/--lang``
and the app's sidebar). ``where`` turns it into a Chroma ``where`` clause on the
metadata every chunk and sentence carries (``outlet``, ``language``, and
``published_ts``, the publication date as the number ``YYYYMMDD``, because
Chroma's ``$gte``/``$lte`` compare numbers only); ``matches`` applies the same
test in Python to rows that come from elsewhere (the keyword index's hits).
``metadata`` is what ingest adds to each row so the filters have something to
read. An article with no publication date never matches a date range: its date
is unknown, not old.

What it leaves out: running the query (``rag.retrieval.retrieve``) and wording answers
(``NO_MATCH`` is the only phrase here).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from rag.dates import date_number
from rag.errors import InputError
from rag.models import Document, Language

# Said instead of the generic refusal when the filters leave no passage at all.
NO_MATCH: dict[Language, str] = {
    "en": "No articles match these filters.",
    "zh": "没有符合筛选条件的文章。",
}


class Filters(BaseModel):
    """Which articles to search. Empty fields do not filter."""

    outlet: list[str] = Field(default_factory=list, description="Outlets to keep (any of them).")
    since: dt.date | None = Field(None, description="Published on or after this day.")
    until: dt.date | None = Field(None, description="Published on or before this day.")
    lang: Language | None = Field(None, description="Language of the passage text.")

    @property
    def active(self) -> bool:
        return bool(self.outlet or self.since or self.until or self.lang)

    def describe(self) -> str:
        """One line for people: 'outlet 界面新闻 · since 2024-01-01 · lang zh'."""
        parts = [f"outlet {', '.join(self.outlet)}" if self.outlet else "",
                 f"since {self.since}" if self.since else "", f"until {self.until}" if self.until else "",
                 f"lang {self.lang}" if self.lang else ""]
        return " · ".join(p for p in parts if p)


def make_filters(
    outlet: list[str] | tuple[str, ...] | None = None,
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    lang: str | None = None,
) -> Filters | None:
    """``Filters`` from loose input (CLI strings), or None when nothing filters; ``InputError`` if invalid."""

    def day(value: str | dt.date | None, name: str) -> dt.date | None:
        if value is None or isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise InputError(f"--{name} {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2024-01-31") from None

    if lang is not None and lang not in ("en", "zh"):
        raise InputError(f"--lang {lang!r} is not supported; use en or zh")
    filters = Filters(outlet=[o for o in (outlet or []) if o.strip()], since=day(since, "since"),
                      until=day(until, "until"), lang=lang)  # type: ignore[arg-type]
    if filters.since and filters.until and filters.since > filters.until:
        raise InputError(f"--since {filters.since} is after --until {filters.until}; swap them")
    return filters if filters.active else None


def _number(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def where(filters: Filters | None) -> dict[str, Any] | None:
    """The Chroma ``where`` clause for ``filters`` (None when nothing filters)."""
    if filters is None or not filters.active:
        return None
    clauses: list[dict[str, Any]] = []
    if filters.outlet:
        clauses.append({"outlet": {"$in": list(filters.outlet)}})
    if filters.since:
        clauses.append({"published_ts": {"$gte": _number(filters.since)}})
    if filters.until:
        clauses.append({"published_ts": {"$lte": _number(filters.until)}})
    if filters.lang:
        clauses.append({"language": {"$eq": filters.lang}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def matches(meta: dict[str, Any], filters: Filters | None) -> bool:
    """The same test as ``where``, on one row's metadata."""
    if filters is None or not filters.active:
        return True
    if filters.outlet and meta.get("outlet") not in filters.outlet:
        return False
    ts = meta.get("published_ts")
    if filters.since and (ts is None or ts < _number(filters.since)):
        return False
    if filters.until and (ts is None or ts > _number(filters.until)):
        return False
    return not (filters.lang and meta.get("language") != filters.lang)


def metadata(doc: Document, language: str) -> dict[str, Any]:
    """What ingest adds to every chunk and sentence row of ``doc`` (``language``: that row's text)."""
    row: dict[str, Any] = {"language": language}
    if doc.outlet:
        row["outlet"] = doc.outlet
    ts = date_number(doc.published)
    if ts:
        row["published_ts"] = ts
    return row
