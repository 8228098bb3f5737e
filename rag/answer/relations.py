"""What a figure or an event is about: a small bilingual table of relations news reports.

Each relation ("gave", "promised", "invested", "raised", "offered", "valued",
"stake") has its words in Chinese and English. ``relation_at`` names the
relation stated nearest to a figure inside its clause; ``relations_asked``
the ones a question asks about; ``relation_terms`` their Chinese words for
an English "how much / how many" question, so the keyword index can match "give" to 捐赠 (as
``rag.retrieval.glossary`` does for names); ``relation_forms`` every Chinese word of
the relation a question word names (股份 → 占股, 持股, 股权), for evidence scoring;
``states_asked_figure`` whether a sentence states a figure of a relation asked, and
``states_figure`` whether it states any amount or count.

What it leaves out: names (``rag.retrieval.glossary``) and any general vocabulary.
"""

from __future__ import annotations

import re

from rag.text import has_han

# Most specific first: "承诺的1亿美元资金资助" is a promise, not a gift.
_TABLE: list[tuple[str, list[str], list[str]]] = [
    ("promised", ["承诺", "许诺"], ["pledg", "promis", "commit"]),
    ("offered", ["收购", "要约", "报价", "出价"], ["offer", "bid", "takeover"]),
    ("raised", ["融资", "筹集", "筹资", "募集"], ["rais"]),
    ("invested", ["投资", "投了", "注资"], ["invest"]),
    ("gave", ["捐赠", "捐款", "捐助", "捐了", "给了", "出资", "资助"], ["donat", "gave", "give", "contribut"]),
    ("valued", ["估值", "市值", "价值", "身家"], ["valu", "worth"]),  # 身家: a person's net worth
    ("stake", ["占股", "持股", "股份", "股权"], ["stake", "share"]),
]
RELATIONS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile("|".join([*zh, *(rf"\b{w}" for w in en)]), re.I)) for name, zh, en in _TABLE
]
_WORDS = {name: (zh, en) for name, zh, en in _TABLE}
_FIGURE_Q = re.compile(r"\bhow (much|many)\b", re.I)
_ZH_FIGURE_Q = re.compile(r"多少|几")
# A figure: an amount or a share, not a bare year (as rag.retrieval.question's how-much cue reads it).
# An amount in Chinese numerals needs its currency ("数十亿美元"; not "千万不要", "亿万富翁").
_FIGURE = re.compile(r"\d[\d,.]*\s*(?:%|％|万|亿|美元|元|million|billion|percent|bn)|[$€£]\s?\d[\d,.]*"
                     r"|[数几一二三四五六七八九十两百千]+[万亿]+\s*(?:美元|元|英镑|欧元)"
                     r"|\b(?:millions|billions) of (?:dollars|euros|pounds)\b", re.I)
# A count: "约20名高管", "11位联合创始人", "三家公司", "20 executives" (a number that is not a year or a date).
# A lone 一 is the article, not a count: "这是一家专注于…的AI初创公司" (an AI start-up).
_COUNT = re.compile(r"\d+\s*(?:名|位|个(?!月)|家|人|款|项|次|倍|成)"
                    r"|(?:[一二三四五六七八九十两几数]{2,}|[二三四五六七八九十两几数])(?:名|位|个(?!月)|家|款|项|倍|成)"
                    r"|\b(?!(?:19|20)\d\d\b)\d[\d,.]*\s+(?!(?:am|pm)\b)[a-z]", re.I)


def relation_at(text: str, start: int, end: int) -> str | None:
    """The relation stated nearest to ``text[start:end]`` inside its clause (commas and semicolons bound it)."""
    left = max(text.rfind(c, 0, start) for c in ",，;；:：") + 1
    rights = [i for i in (text.find(c, end) for c in ",，;；") if i >= 0]
    right = min(rights) if rights else len(text)
    best: tuple[int, int, str] | None = None
    for rank, (name, rx) in enumerate(RELATIONS):
        for m in rx.finditer(text, left, right):
            gap = start - m.end() if m.end() <= start else max(0, m.start() - end)
            if best is None or (gap, rank) < best[:2]:
                best = (gap, rank, name)
    return best[2] if best else None


def relations_asked(question: str) -> set[str]:
    """The relations a question asks about ("How much did Musk give" → {'gave'}). A question asking one
    "how much" of several relations asks it of the one nearest to it: "Figure这轮融资后估值是多少？" asks
    the valuation, not the raise (its evidence stated the raise, and the question was answered with it)."""
    found = {name for name, rx in RELATIONS if rx.search(question)}
    asks = list((_ZH_FIGURE_Q if has_han(question) else _FIGURE_Q).finditer(question))
    if len(found) > 1 and len(asks) == 1:
        near = relation_at(question, asks[0].start(), asks[0].end())
        return {near} if near else found
    return found


def relation_terms(question: str) -> list[str]:
    """Chinese words for the relations a "how much / how many" (多少, 几) question asks about ("give" →
    捐赠, …; 捐了 → 给了, 出资, …: "但最后只给了4500万美元" answers "捐了多少钱").

    Only figure questions: the words exist to find every figure a conflict
    needs; expanding any question that merely names a relation ("What stake
    does Microsoft hold…") pulled in passages on other shares and turned two
    answerable eval cases into refusals. Only Chinese words: the English
    side of the table holds stems ("donat"), which are not words the keyword
    index could look up.
    """
    if not (_ZH_FIGURE_Q if has_han(question) else _FIGURE_Q).search(question):
        return []
    return [w for name in sorted(relations_asked(question)) for w in _WORDS[name][0]]


def relation_forms(word: str) -> list[str]:
    """The Chinese words of the relation ``word`` names (a Chinese word of the table, or an English
    word opening with one of its stems): "股份" and "stake" → 占股, 持股, 股份, 股权; else []."""
    for name, zh, en in _TABLE:
        if word in zh or any(word.lower().startswith(stem) for stem in en):
            return list(zh)
    return []


def states_asked_figure(sentence: str, asked: set[str]) -> bool:
    """``sentence`` states a figure whose relation (``relation_at``) is one of ``asked``."""
    return bool(asked) and any(relation_at(sentence, m.start(), m.end()) in asked for m in _FIGURE.finditer(sentence))


def states_figure(sentence: str) -> bool:
    """``sentence`` states an amount, a share or a count: what a how-much or how-many answer needs."""
    return bool(_FIGURE.search(sentence) or _COUNT.search(sentence))
