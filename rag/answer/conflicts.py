"""Sources that disagree: different figures for the same thing in different evidence sentences.

A figure is a money amount ("4500万美元", "超过4400万美元", "$45 million"),
a percentage ("49%", "百分之四十九") or a count ("11位联合创始人"). Each is
tied to what it is about: the names in its sentence (from ``rag.retrieval.glossary``)
and the relation its clause states (``rag.answer.relations``: gave, promised,
invested, raised, offered, valued, holds a stake; for counts, the thing counted). Two
sentences that state different figures of one kind for the same relation and a
shared name, no more than ``MAX_RATIO`` apart, are a ``Conflict``; each side keeps the figure as written, its
passage number and who states it ("Musk says", "the emails Altman published"),
read from the sentence or the one that introduces it. Chinese numerals are read
with ``cn2an``.

What it leaves out: claims that are not figures, figures for different years
of one series (a sentence naming another year is not compared), and deciding
which side is right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.retrieval.glossary import GROUPS
from rag.models import Conflict, ConflictSide, Language, Passage, Sentence
from rag.answer.relations import relation_at, relations_asked
from rag.text import has_han

_QUAL = r"(?:约|大约|超过|逾|近|将近|高达|不到|仅|只有|about|around|nearly|almost|more than|over|less than|some|roughly)?\s*"
_NUM = r"(\d+(?:[.,]\d+)*|[零一二两三四五六七八九十百千]+)"
_MONEY = re.compile(
    rf"{_QUAL}(?:(?:US)?\$\s?{_NUM}\s*(trillion|billion|million|bn|m)?\b"
    rf"|{_NUM}\s*(万亿|亿|万|千)?\s*(美元|元|人民币|欧元|英镑)"
    rf"|{_NUM}\s*(trillion|billion|million)\s+(?:US\s+)?dollars)",
    re.I,
)
_PERCENT = re.compile(rf"{_QUAL}(?:{_NUM}\s*(?:%|％|percent\b)|百分之([零一二两三四五六七八九十百点]+))", re.I)
_COUNT = re.compile(rf"{_QUAL}(?<![\d.])(\d+)\s*(?:位|名|个|家)(?!月|小时|星期|季度)([\u4e00-\u9fff]{{2,5}})")
# Figures further apart than this are taken to be about different things, not a dispute
# (a company's value vs a person's wealth); disputes over one figure stay within it.
MAX_RATIO = 3.0
_SCALE = {"万亿": 1e12, "亿": 1e8, "万": 1e4, "千": 1e3, "trillion": 1e12, "billion": 1e9, "bn": 1e9,
          "million": 1e6, "m": 1e6}
_SAYS = re.compile(r"(强调|表示|称|说|宣称|声称|认为|指出|写道|透露|质疑|回应|says?|said|claims?|claimed|wrote)", re.I)
_DOCUMENT = re.compile(r"(公开|公布|发布)(?:的)?(邮件|声明|文件|博客)|(邮件|声明)(?:显示|透露|中)|"
                       r"(emails?|statement|filing|blog post)", re.I)
_REPORTS = re.compile(r"据报道|据.{1,8}报道|媒体|reported|according to", re.I)


@dataclass(frozen=True)
class Evidence:
    """One evidence sentence with where it comes from; ``before`` is the sentence that precedes it."""

    n: int
    text: str
    chunk_id: str
    doc_id: str
    span: tuple[int, int]
    outlet: str | None = None
    published: str | None = None
    before: str = ""


@dataclass(frozen=True)
class Figure:
    kind: str  # money | percent | count
    relation: str
    value: str
    amount: float
    names: frozenset[str]
    evidence: Evidence


def evidence_from(passages: Sequence[Passage], sentences: dict[str, list[Sentence]]) -> list[Evidence]:
    """Every sentence of the retrieved passages, with the sentence before it (for "透露:" lists)."""
    out = []
    for p in passages:
        previous = ""
        for s in sentences.get(p.chunk_id, []):
            out.append(Evidence(p.n, s.text, p.chunk_id, p.doc_id, (s.start, s.end),
                                p.outlet, p.published, previous))
            previous = s.text
    return out


def number(text: str) -> float | None:
    """'4,400' → 4400; '四十九' → 49 (cn2an); None when it is not a number."""
    if re.fullmatch(r"[\d.,]+", text):
        try:
            return float(text.replace(",", ""))
        except ValueError:
            return None
    import cn2an

    try:
        return float(cn2an.cn2an(text, "smart"))
    except (ValueError, KeyError):
        return None


def names_in(text: str) -> frozenset[str]:
    """Canonical (English) names of the glossary entries ``text`` mentions."""
    low = text.lower()
    return frozenset(g[0] for g in GROUPS if any(t.lower() in low for t in g))


def figures(ev: Evidence) -> list[Figure]:
    """The money amounts, percentages and counts one sentence states, each with its relation."""
    out: list[Figure] = []
    names = names_in(ev.text)
    for m in _MONEY.finditer(ev.text):
        digits = m[1] or m[3] or m[6]
        scale = _SCALE.get((m[2] or m[4] or m[7] or "").lower(), 1.0)
        value, rel = number(digits), relation_at(ev.text, m.start(), m.end())
        if value is not None and rel:
            out.append(Figure("money", rel, m[0].strip(), value * scale, names, ev))
    for m in _PERCENT.finditer(ev.text):
        value, rel = number(m[1] or m[2]), relation_at(ev.text, m.start(), m.end())
        if value is not None and rel:
            out.append(Figure("percent", rel, m[0].strip(), value, names, ev))
    for m in _COUNT.finditer(ev.text):
        value = number(m[1])
        if value is not None:
            out.append(Figure("count", m[2], m[0].strip(), value, names, ev))
    return out


def attribution(ev: Evidence, language: Language) -> str:
    """Who states the sentence's figure: a named speaker, a published document, a report, or the outlet."""
    introduced = re.match(r"^\s*\d+[、.)]", ev.text) or ev.before.rstrip().endswith((":", "："))
    for text in (ev.before, ev.text) if introduced else (ev.text,):
        if not text:
            continue
        doc = _DOCUMENT.search(text)
        says = _SAYS.search(text)
        cue = min((m for m in (doc, says) if m), key=lambda m: m.start(), default=None)
        if cue is None:
            continue
        speaker = names_in(text[: cue.start()] or text)
        who = _first_name(text[: cue.start()], speaker) if speaker else None
        if cue is doc:
            if language == "zh":
                return f"{_zh_name(who)}公布的{doc[2] or doc[3] or '文件'}" if who else "公布的文件"
            return f"the emails {who} published" if who else "the published documents"
        if who:
            return f"{_zh_name(who)}称" if language == "zh" else f"{who} says"
    if _REPORTS.search(ev.text):
        return "据报道" if language == "zh" else "reports say"
    outlet = ev.outlet or ("文章" if language == "zh" else "the article")
    return f"{outlet}称" if language == "zh" else f"{outlet} reports"


def _first_name(prefix: str, names: frozenset[str]) -> str:
    """Of ``names``, the one mentioned first before the cue (the subject, who speaks)."""
    low = prefix.lower()

    def first(name: str) -> int:
        spots = [low.find(t.lower()) for g in GROUPS if g[0] == name for t in g]
        return min((i for i in spots if i >= 0), default=len(low) + 1)

    return min(names, key=first)


def _zh_name(name: str | None) -> str:
    group = next((g for g in GROUPS if g[0] == name), None)
    return next((t for t in group if has_han(t)), name) if group else (name or "")


def _different_years(a: Evidence, b: Evidence) -> bool:
    ya, yb = set(re.findall(r"(?:19|20)\d{2}", a.text)), set(re.findall(r"(?:19|20)\d{2}", b.text))
    return bool(ya and yb and not ya & yb and len(ya) == 1 and len(yb) == 1)


def detect(evidence: Sequence[Evidence], language: Language = "en") -> list[Conflict]:
    """Groups of sentences giving different figures of one kind for one relation and a shared name."""
    found = [f for ev in evidence for f in figures(ev)]
    conflicts: list[Conflict] = []
    used: set[int] = set()
    for i, a in enumerate(found):
        if i in used:
            continue
        group = [a]
        for j in range(i + 1, len(found)):
            b = found[j]
            if j in used or (b.kind, b.relation) != (a.kind, a.relation) or not (a.names & b.names):
                continue
            if b.evidence.text == a.evidence.text or _different_years(a.evidence, b.evidence):
                continue
            if any(b.evidence.text == g.evidence.text for g in group):
                continue
            low, high = min(g.amount for g in [*group, b]), max(g.amount for g in [*group, b])
            if high > MAX_RATIO * low:  # "300亿 market value" vs "2000亿 fortune": two different things
                continue
            group.append(b)
            used.add(j)
        amounts = {round(g.amount, 6) for g in group}
        if len(amounts) < 2:
            continue
        sides, seen = [], set()
        for g in sorted(group, key=lambda g: g.amount):
            if (g.amount, g.evidence.n) in seen:
                continue
            seen.add((g.amount, g.evidence.n))
            ev = g.evidence
            sides.append(ConflictSide(value=g.value, amount=g.amount, n=ev.n, attribution=attribution(ev, language),
                                      quote=ev.text, chunk_id=ev.chunk_id, doc_id=ev.doc_id, span=ev.span,
                                      outlet=ev.outlet, published=ev.published))
        names = " · ".join(sorted(a.names & group[1].names))
        conflicts.append(Conflict(topic=f"{names} · {a.relation} ({a.kind})", kind=a.kind,  # type: ignore[arg-type]
                                  relation=a.relation, sides=sides))
    return conflicts


def for_question(
    question: str, passages: Sequence[Passage], sentences: dict[str, list[Sentence]],
    cited: Sequence[str] = (), language: Language = "en",
) -> list[Conflict]:
    """Conflicts in the retrieved evidence that bear on the question.

    A question that asks about a relation ("How much did Musk give" → gave) keeps
    the conflicts about that relation only: asked what Musk offered, a reader is not
    told that the sources disagree on what he gave. Any other question keeps a
    conflict when one of its sides is a sentence the answer cites (``cited``: the quotes).
    """
    asked = relations_asked(question)
    found = detect(evidence_from(passages, sentences), language)
    if asked:
        return [c for c in found if c.relation in asked]
    return [c for c in found if any(s.quote in cited for s in c.sides)]


def _usd(side: ConflictSide) -> str:
    """An English reading of a Chinese dollar amount: '4500万美元' → ' ($45 million)'."""
    if side.amount is None or "美元" not in side.value:
        return ""
    for scale, word in ((1e9, "billion"), (1e6, "million")):
        if side.amount >= scale:
            return f" (${side.amount / scale:,.4g} {word})"
    return f" (${side.amount:,.0f})"


def describe(conflicts: Sequence[Conflict], language: Language) -> str:
    """Each conflict as one attributed, cited sentence, in the question's language.

    "Sources disagree: Musk says 超过4400万美元 ($44 million) [2]; the emails Altman
    published put it at 4500万美元 ($45 million) [3]." Figures stay as written.
    """
    lines = []
    for c in conflicts:
        if language == "zh":
            parts = [f"{s.attribution}{'为' if not s.attribution.endswith('称') else ''}{s.value}[{s.n}]"
                     for s in c.sides]
            lines.append("各来源说法不一：" + "；".join(parts) + "。")
        else:
            parts = [
                f"{s.attribution} {'put it at ' if not s.attribution.endswith(('says', 'reports')) else ''}"
                f"{s.value}{_usd(s)} [{s.n}]"
                for s in c.sides
            ]
            lines.append("Sources disagree: " + "; ".join(parts) + ".")
    return "\n".join(lines)
