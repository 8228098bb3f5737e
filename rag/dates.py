"""Dates in news: an article's publication date, and the dates written inside its sentences.

- ``normalise_published`` turns whatever an article's metadata says
  ("2024-05-24T21:00:23.801Z", "2023.06.17", "2023年6月5日") into ISO
  ``YYYY-MM-DD`` with ``dateparser``.
- ``find_dates`` finds dates as written in a sentence ("2月29日", "2018年",
  "2016—2020年", "on 29 February", "in 2018") and returns the text as written
  plus a partial ISO value: ``2018``, ``2024-03``, ``--02-29`` (ISO 8601's
  form for a day with no year). A year is only ever filled in when the text
  writes one; nothing is guessed. English dates are located by
  ``dateparser.search`` and cut to the date's own words (its spans run on, as
  in "May 2019 and 10"); Chinese ones are read by the small pattern below, because
  ``dateparser`` reads "2018年" as year 8 and "3月5日" as a date in the
  current month (checked with dateparser 1.5.0).
- ``published_label`` / ``source_label`` are the one wording of "outlet · date"
  (or "no date given" / "未注明日期") used by the CLI, the app, the citations
  and the prompt.

What it leaves out: time zones, relative dates ("9年前", "last week") and
deciding which event a date belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

NO_DATE = {"en": "no date given", "zh": "未注明日期"}
NO_OUTLET = {"en": "outlet not named", "zh": "未注明来源"}

_ZH_DATE = re.compile(
    r"(?P<y1>\d{4})\s*[—–~-]\s*(?P<y2>\d{4})\s*年"  # 2016—2020年
    r"|(?P<y>\d{4})\s*年(?:\s*(?P<m>\d{1,2})\s*月(?:\s*(?P<d>\d{1,2})\s*[日号])?)?"
    r"|(?P<ym>\d{4})[./-](?P<mm>\d{1,2})(?:[./-](?P<dd>\d{1,2}))?(?!\d)"
    r"|(?<!\d)(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号]"
    r"|(?<![\d年])(?P<m3>\d{1,2})\s*月(?!\s*\d)"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
MONTHS = "January February March April May June July August September October November December".split()
_MONTHS = [m.lower() for m in MONTHS]
# Words that name a day of the calendar, not someone or something: the articles write them as dates (同年11月).
DATE_WORDS = frozenset([*_MONTHS, *"monday tuesday wednesday thursday friday saturday sunday".split()])
_MONTH_RE = re.compile(r"\b(" + "|".join(m[:3] for m in _MONTHS) + r")[a-z]*\.?\b", re.I)
_YEAR_RE = re.compile(r"\b(1[89]\d{2}|20\d{2})\b")
_EDGE_WORDS = re.compile(r"^(?:(?:on|in|since|by|from|until|as of|at|of|the)\s+)+", re.I)
_MON = r"(?:" + "|".join(_MONTHS) + "|" + "|".join(rf"{m[:3]}\b\.?" for m in _MONTHS) + r")"
# The date's own words at the start of a span dateparser found (it may run on into "and 10").
_EN_SHAPE = re.compile(
    rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MON}(?:,?\s+\d{{4}})?"  # 29 February (2024)
    rf"|{_MON}(?:\s+\d{{1,2}}(?!\d)(?:st|nd|rd|th)?)?(?:,?\s+\d{{4}})?"  # March 5(, 2024) · May 2019
    r"|\d{4}\b)",
    re.I,
)


@dataclass(frozen=True)
class DateMention:
    """A date as a sentence writes it, with the parts the text actually states."""

    text: str
    start: int
    end: int
    year: int | None = None
    month: int | None = None
    day: int | None = None
    end_year: int | None = None  # a range of years: "2016—2020年"

    @property
    def iso(self) -> str:
        """Partial ISO 8601: '2018', '2024-03', '2024-02-29', '--02-29', '--11', '2016/2020'."""
        if self.end_year:
            return f"{self.year:04d}/{self.end_year:04d}"
        head = f"{self.year:04d}" if self.year else "-"
        if self.month is None:
            return head
        tail = f"-{self.month:02d}" + (f"-{self.day:02d}" if self.day else "")
        return head + tail

    @property
    def english(self) -> str:
        """The date in English words: '29 February 2024', 'November', '2016–2020' (the text itself when
        it states no part)."""
        if self.end_year:
            return f"{self.year}–{self.end_year}"
        parts = [str(self.day)] if self.day and self.month else []
        parts += [MONTHS[self.month - 1]] if self.month else []
        parts += [str(self.year)] if self.year else []
        return " ".join(parts) or self.text

    @property
    def sort_key(self) -> tuple[int, int, int]:
        """(year or 0, month or 0, day or 0): callers decide where yearless dates go."""
        return (self.year or 0, self.month or 0, self.day or 0)


def _valid(month: int | None, day: int | None) -> bool:
    return (month is None or 1 <= month <= 12) and (day is None or 1 <= day <= 31)


def _zh_dates(text: str) -> list[DateMention]:
    out = []
    for m in _ZH_DATE.finditer(text):
        g = {k: int(v) for k, v in m.groupdict().items() if v}
        if "y1" in g:
            mention = DateMention(m[0], m.start(), m.end(), year=g["y1"], end_year=g["y2"])
        elif "y" in g:
            mention = DateMention(m[0], m.start(), m.end(), g["y"], g.get("m"), g.get("d"))
        elif "ym" in g:
            mention = DateMention(m[0], m.start(), m.end(), g["ym"], g["mm"], g.get("dd"))
        elif "m2" in g:
            mention = DateMention(m[0], m.start(), m.end(), None, g["m2"], g["d2"])
        else:
            mention = DateMention(m[0], m.start(), m.end(), None, g["m3"], None)
        year_ok = mention.year is None or 1800 <= mention.year <= 2100
        if year_ok and _valid(mention.month, mention.day):
            out.append(mention)
    return out


def _en_dates(text: str) -> list[DateMention]:
    from dateparser.search import search_dates

    out: list[DateMention] = []
    cursor = 0
    for raw in _en_candidates(text, search_dates):
        head = _EDGE_WORDS.sub("", raw.strip())
        start = text.find(head, cursor) if head else -1
        shape = _EN_SHAPE.match(text, start) if start >= 0 else None  # read on: "March 5" + ", 2024"
        if not shape:
            continue
        span = shape[0]
        month_m, year_m = _MONTH_RE.search(span), _YEAR_RE.search(span)
        if not (month_m or year_m) or not any(ch.isdigit() for ch in span):
            continue
        cursor = start + len(span)
        year = int(year_m[1]) if year_m else None
        month = _MONTHS.index(_month_name(month_m[1])) + 1 if month_m else None
        rest = re.sub(r"\b(1[89]\d{2}|20\d{2})\b", "", span)
        day_m = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", rest) if month else None
        day = int(day_m[1]) if day_m else None
        if _valid(month, day):
            out.append(DateMention(span, start, start + len(span), year, month, day))
    return out


def _en_candidates(text: str, search_dates: Any) -> list[str]:
    """Date spans ``dateparser`` finds in short windows around month names and years, in order.

    Searching a whole long sentence takes dateparser ~0.7 s; a window of a few
    words around each candidate takes milliseconds and finds the same dates.
    """
    windows: list[list[int]] = []
    for m in re.finditer(rf"{_MONTH_RE.pattern}|{_YEAR_RE.pattern}", text, re.I):
        lo, hi = max(0, m.start() - 16), min(len(text), m.end() + 16)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = hi
        else:
            windows.append([lo, hi])
    spans: list[str] = []
    for lo, hi in windows:
        found = search_dates(text[lo:hi], languages=["en"], settings={"REQUIRE_PARTS": [], "STRICT_PARSING": False})
        spans += [raw for raw, _ in found or []]
    return spans


def _month_name(word: str) -> str:
    return next(m for m in _MONTHS if m.startswith(word.lower()[:3]))


def find_dates(text: str) -> list[DateMention]:
    """Every date written in ``text``, in order, as written; years only where the text states them."""
    found = _zh_dates(text) if _CJK.search(text) else []
    if re.search(r"[A-Za-z]{3}", text) and (_MONTH_RE.search(text) or _YEAR_RE.search(text)):
        taken = [(d.start, d.end) for d in found]
        found += [d for d in _en_dates(text) if not any(s < d.end and d.start < e for s, e in taken)]
    return sorted(found, key=lambda d: d.start)


def normalise_published(value: str | None) -> str | None:
    """An article's publication date as ISO ``YYYY-MM-DD``, or None when it gives none (or nonsense)."""
    if not value or not value.strip():
        return None
    import dateparser

    parsed = dateparser.parse(
        value.strip(), languages=["en", "zh"],
        settings={"REQUIRE_PARTS": ["year", "month", "day"], "PREFER_DATES_FROM": "past"},
    )
    return parsed.date().isoformat() if parsed else None


def date_number(published: str | None) -> int | None:
    """``YYYYMMDD`` as an int (Chroma range filters compare numbers only), or None."""
    iso = normalise_published(published) if published and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", published) \
        else published
    return int(iso.replace("-", "")) if iso else None


def published_label(published: str | None, language: str = "en") -> str:
    """The publication date for people, or plainly that the article gives none."""
    return published or NO_DATE.get(language, NO_DATE["en"])


def source_label(item: Any, language: str = "en") -> str:
    """'outlet · date' of a passage or citation (anything with ``outlet`` and ``published``).

    The prompt builder puts it beside each evidence sentence, so the model knows
    who published it and when, and says so when the article gives no date.
    """
    outlet = getattr(item, "outlet", None) or NO_OUTLET.get(language, NO_OUTLET["en"])
    return f"{outlet} · {published_label(getattr(item, 'published', None), language)}"
