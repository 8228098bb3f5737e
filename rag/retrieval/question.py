"""What a question asks for, in either language: its kind, its script, its search form.

- ``kind``: why / how / when / how much / who / what is / latest / other, from the question
  words of both languages (latest and when as ``rag.retrieval.recency`` reads them). Evidence selection rewards sentences that carry what
  the kind asks for (a cause, a number, a date or a duration, a name, a reply, what a thing is).
- ``quoted``: the phrases a question quotes ("说…“都将试图用类似的产品赚钱”的是哪位专家？"); the passages
  and sentences that hold one (``holds_phrase``) are candidates and rewarded: the embedder placed that
  quote's own passage outside the 25 candidates of a question asking who said it.
- ``compound``: the question asks two things ("…, and what powered it?", "…？…是什么？").
- ``script``: 'Hant' when the question is written in Traditional Chinese (it
  changes under OpenCC's Traditional→Simplified conversion), else 'Hans'/'Latn'.
  Matching uses the Simplified form and retrieval also mainland words (``for_search``),
  since the articles are mainland Chinese; the answer is converted back to the user's script.
What it leaves out: translation (``translate``) and scoring (``evidence``).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

from rag.retrieval.recency import question_kind
from rag.text import STOPWORDS, detect_language

Kind = Literal["why", "how", "when", "how_much", "who", "what_is", "latest", "other"]
Script = Literal["Latn", "Hans", "Hant"]

# Checked in order, after "latest" and "when" (rag.retrieval.recency): "how much" before "how".
_KIND_PATTERNS: list[tuple[Kind, re.Pattern[str]]] = [
    ("how_much", re.compile(r"\bhow (much|many)\b|\bwhat (share|stake|percentage|amount|price|valuation)\b"
                            r"|\bvalued at\b|\bworth\s*\?|多少|几(?![月日号点时])|金额|比例|股份|价格|市值", re.I)),
    ("why", re.compile(r"\bwhy\b|\breasons?\b|\bwhat (led|caused|made)\b|为什么|为何|原因|为啥|理由|动机", re.I)),
    ("who", re.compile(r"\bwho(m|se)?\b|\bwhich (company|companies|person|people|firm)\b|谁|哪些公司|哪家|哪位|哪些人", re.I)),
    ("how", re.compile(r"\bhow\b|\bin what way\b|如何|怎么|怎样|怎么样|什么反应|回应", re.I)),
]

# Words a sentence carries when it answers each kind, in both languages.
CUES: dict[Kind, re.Pattern[str]] = {
    "why": re.compile(r"\b(because|due to|since|as a result|reason|so that|conflict of interest|in order to|to avoid)\b"
                      r"|\b(?:worr(?:y|ied|ies)|concerns?|fears?)\b"
                      r"|因为|由于|之所以|原因|因此|所以|导致|出于|为了|认为|觉得|避免|担心|担忧|忧虑|因[^，,。；]{1,30}而", re.I),
    # an amount, not a year: 49%, 4500万美元, $45 million, 10 亿美元, 三成
    "how_much": re.compile(r"\d[\d,.]*\s*(?:%|％|万|亿|美元|元|million|billion|percent|bn|m\b)|[$€£]\s?\d"
                           r"|[一二三四五六七八九十百千两]+(?:成|万|亿|倍)", re.I),
    "when": re.compile(r"\b(19|20)\d\d\b|\b(january|february|march|april|may|june|july|august|september|"
                       r"october|november|december)\b|\d+月\d*日?|\d{4}年|\d+日"
                       r"|\d+\s*(?:个月|年内|周内|天内)|\b\d+\s*(?:months?|years?|weeks?)\b", re.I),  # or how long until
    "who": re.compile(r"[A-Z][a-z]+ [A-Z][a-z]+|首席|创始人|CEO|总裁|董事|表示|称|说"),
    "how": re.compile(r"\b(said|says|responded|replied|rejected|by|through)\b|回应|表示|拒绝|回复|称|通过|声明|驳斥", re.I),
    "what_is": re.compile(r"(?!)"),  # what a thing is names the thing: ``cue_for``
    "latest": re.compile(r"\b(19|20)\d\d\b|\d+月\d*日?|\d{4}年|最新|近日|日前"),
    "other": re.compile(r"(?!)"),
}


_NAME = r"([A-Za-z][\w.\-]*(?: [A-Z][\w.\-]*)*)"
_WHAT_IS = [re.compile(rf"^\s*[Ww]hat(?:'s| is| are| was| were) (?:an? |the )?{_NAME}\s*[?？]?\s*$"),
            re.compile(rf"^\s*{_NAME}\s*(?:是什么|是啥)[？?]?\s*$"),
            re.compile(rf"^\s*什么是\s*{_NAME}\s*[？?]?\s*$")]


def asked_name(question: str) -> str | None:
    """The name a "what is X?" question asks about, and nothing else ("What is Grok?" → Grok)."""
    for pattern in _WHAT_IS:
        m = pattern.match(question)
        if m and m.group(1).lower() not in STOPWORDS:  # "What is it?" names nothing
            return m.group(1)
    return None


def cue_for(kind: Kind, question: str) -> re.Pattern[str]:
    """The words a sentence answering ``question`` carries (``CUES``); for "what is X?", a sentence
    that says what X is: "一款名为Grok的…模型", "X.ai是埃隆·马斯克创办的一家新型人工智能公司",
    "Character.ai, an AI start-up that…" (X in any spelling that differs only by dots and case)."""
    name = asked_name(question) if kind == "what_is" else None
    if name is None:
        return CUES[kind]
    x = r"\.?".join(map(re.escape, name.replace(".", "")))
    return re.compile(rf"(?:名为|叫做|称为|called|named)\s*[“\"「]?{x}"
                      rf"|{x}[”\"」]?\s*(?:是|，|,)[^。；;]{{0,30}}?(?:一款|一家|一个|一种|一项)"
                      rf"|{x},?\s+(?:is |was )?an?\s", re.I)


def kind(question: str) -> Kind:
    timed = question_kind(question)
    if timed != "other":
        return timed
    for name, pattern in _KIND_PATTERNS:
        if pattern.search(question):
            return name
    return "what_is" if asked_name(question) else "other"


def kinds(question: str) -> set[Kind]:
    """Every kind the question asks ("What stake…, and why…?": how much and why); ``kind`` is the first."""
    found = {kind(question)} - {"other"}
    return found | {name for name, pattern in _KIND_PATTERNS if pattern.search(question)}


_YES_NO = re.compile(r"^\W*(?:(?:and|so|but)\W+)?(?:was|were|is|are|did|does|do|has|have|had|can|could|will|would|should)\b"
                     r"|(?:吗|嗎)\s*[?？]?\s*$|是不是|有没有|是否", re.I)


def yes_no(question: str) -> bool:
    """A question answered yes or no ("Was that the first time he tried…?", "他后来撤诉了吗？"): it has its
    own predicate, so a follow-up of this form does not ask what the question before it asked."""
    return bool(_YES_NO.search(question))


def follow_up_kinds(question: str, standalone: str) -> set[Kind]:
    """The kinds a follow-up asks: its own, else (unless it is ``yes_no``) the joined question's: "那奥尔特曼呢？"
    after "马斯克身家多少？" asks how much; "Was that the first time he tried to get control of OpenAI?" after
    "How much did Musk's group offer?" does not (it was refused for stating no figure of the offer)."""
    return kinds(question) or (set() if yes_no(question) else kinds(standalone))


def follow_up_kind(question: str, standalone: str) -> Kind:
    """The kind a follow-up asks (``kind``), read as ``follow_up_kinds`` reads its kinds: its own, else,
    unless it is ``yes_no``, the joined question's."""
    own = kind(question)
    return own if own != "other" or yes_no(question) else kind(standalone)


# A quoted phrase: in typographic or CJK quotation marks, or straight double quotes (never a lone
# apostrophe: "Musk's … OpenAI's" is no quote).
_QUOTE = re.compile(r"“([^”]+)”|「([^」]+)」|『([^』]+)』|\"([^\"]+)\"")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def quoted(question: str) -> list[str]:
    """The phrases ``question`` quotes that are long enough to find as written: four Chinese characters
    or more, or three words or more ("open" in "What does the \"open\" in OpenAI mean?" is a word, not a quote)."""
    out = []
    for m in _QUOTE.finditer(question):
        phrase = next(g for g in m.groups() if g is not None).strip()
        if len(_CJK.findall(phrase)) >= 4 or len(phrase.split()) >= 3:
            out.append(phrase)
    return out


_NOT_WORD = re.compile(r"[\W_]+")


def holds_phrase(text: str, phrases: Sequence[str]) -> bool:
    """``text`` holds one of ``phrases`` as written, up to case, spaces and punctuation (not merely its
    words: "OpenAI and Elon Musk", a title, is not in every sentence naming OpenAI and Musk)."""
    if not phrases:  # the common case: called for every candidate sentence
        return False
    plain = _plain(text)
    return any((p := _plain(phrase)) and p in plain for phrase in phrases)


def _plain(text: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


# A second question joined to the first: ", and what powered it?", "…？他设想的替代方案是什么？", "，为什么？"
_SECOND_PART = re.compile(r",\s*and\s+(?:what|how|why|who|when|which|where)\b|[?？]\s*\S.*[?？]"
                          r"|[,，;；]\s*(?:又|还|并且|而且|以及)?(?:为什么|为何|如何|怎么|多少|什么|哪|谁)", re.I)


def compound(question: str) -> bool:
    """The question asks two things ("When did X launch Y, and what powered it?"), by its wording or its kinds."""
    return bool(_SECOND_PART.search(question.strip())) or len(kinds(question)) > 1


_OPENCC_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _converter(config: str):
    import opencc  # imported on first use: a few ms

    return opencc.OpenCC(config)


def _convert(text: str, config: str) -> str:
    with _OPENCC_LOCK:  # OpenCC objects are not documented as thread-safe
        return _converter(config).convert(text)


def script(question: str) -> Script:
    if detect_language(question) == "en":
        return "Latn"
    simplified = _convert(question, "t2s")
    changed = sum(a != b for a, b in zip(question, simplified))
    return "Hant" if changed >= 1 else "Hans"


def to_simplified(text: str) -> str:
    return _convert(text, "t2s")


def for_search(text: str) -> str:
    """``text`` as the articles would write it: Traditional (Taiwan) text in Simplified characters
    and mainland words (人工智慧 → 人工智能, 軟體 → 软件); other text unchanged (mainland words
    like 影片 must not be "converted")."""
    return _convert(text, "tw2sp") if script(text) == "Hant" else text


def to_script(text: str, target: Script) -> str:
    """``text`` in the user's script: Traditional (Taiwan standard forms) when they wrote it."""
    return _convert(text, "s2tw") if target == "Hant" else text
