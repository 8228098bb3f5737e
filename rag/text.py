"""Script-aware text helpers used by every stage: language, sentences, tokens, which
sentences carry content, and where a quotation opens and closes.

Covers Chinese (Han script) and English (Latin). Sentence spans are offsets into
the text given, so callers can quote verbatim. Keyword tokens are CJK
character bigrams plus lower-cased Latin/number runs, the scheme Lucene's
CJKAnalyzer uses; it needs no dictionary and no start-up time. This module does
no I/O and knows nothing of documents or the index.
"""

from __future__ import annotations

import re
import unicodedata

from rag.models import Language

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
MIDDLE_DOT = "[·・•‧]"  # between the parts of a foreign name written in Chinese ("埃隆·马斯克", "萨姆・奥特曼")
_LATIN_WORD_RE = re.compile(r"[A-Za-z]+")
# A sentence ends at CJK terminators (optionally followed by closing quotes),
# at . ! ? followed by whitespace, or at a line break.
_SENT_END_RE = re.compile(
    r"[。！？；!?;…]+[”’」』\"')）]*"
    r"|(?<=[a-zA-Z0-9)\]】\"”’])[.!?]+[\"”’)]*(?=\s)"
    r"|\n+"
)
_TOKEN_RE = re.compile(f"[{_CJK}]+|[a-z0-9]+(?:[.'][a-z0-9]+)*")


def has_han(text: str) -> bool:
    """``text`` holds a Han character (a Chinese word, name or date)."""
    return bool(_CJK_RE.search(text))


def cjk_ratio(text: str) -> float:
    """Share of Han characters among Han characters plus Latin words."""
    han = len(_CJK_RE.findall(text))
    words = len(_LATIN_WORD_RE.findall(text))
    return han / (han + 2 * words) if han + words else 0.0


def detect_language(text: str) -> Language:
    """'zh' when Han characters dominate, else 'en' (two Han chars ≈ one word)."""
    return "zh" if cjk_ratio(text) >= 0.5 else "en"


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of sentences in ``text``, whitespace trimmed, empty ones dropped."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENT_END_RE.finditer(text):
        end = m.end() if m.group().strip() else m.start()
        spans.append((start, end))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def normalize(text: str) -> str:
    """NFKC, lower case, punctuation to spaces: the form metrics and matching compare."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in text)


# Function words carry no topic; dropping them keeps BM25 from matching on "the".
STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have he her his how i if in
    into is it its me my no not of on or our she so than that the their them then there these they this to
    was we were what when where which who whom why will with would you your about after all also any because
    before between both each more most other over some such only own same too very just should now""".split()
)
# Chinese question words and particles, cut out so bigrams do not straddle them.
_ZH_QUESTION_RE = re.compile("为什么|什么|怎么样|怎么|多少|哪些|哪个|哪里|是否|如何|有没有|吗|呢|吧")


def without_question_words(text: str) -> str:
    """``text`` with its Chinese question words and particles (为什么, 多少, 吗, …) blanked out."""
    return _ZH_QUESTION_RE.sub(" ", text)


def keyword_tokens(text: str) -> list[str]:
    """CJK bigrams (a lone character stays a unigram) and Latin/number runs, no stopwords."""
    out: list[str] = []
    text = without_question_words(unicodedata.normalize("NFKC", text).lower())
    for run in _TOKEN_RE.findall(text):
        if _CJK_RE.match(run):
            if len(run) == 1:
                out.append(run)
            else:
                out.extend(run[i : i + 2] for i in range(len(run) - 1))
        elif run not in STOPWORDS:
            out.append(run)
    return out


def near_duplicate(sa: set[str], sb: set[str], threshold: float) -> bool:
    """Jaccard overlap of two texts' character-token sets at or above ``threshold``."""
    return bool(sa and sb) and len(sa & sb) / len(sa | sb) >= threshold


def char_tokens(text: str) -> list[str]:
    """One token per CJK character plus Latin/number runs: the eval tokenizer."""
    out: list[str] = []
    for run in _TOKEN_RE.findall(normalize(text)):
        out.extend(run if _CJK_RE.match(run) else [run])
    return out


# "来源：界面新闻", "date: 2024-03-01": a short key, then one value with no sentence punctuation or quote mark
# ("人工智能顾问Merav Ozair表示:“开源的意义在于…,从而…。" is a quote: Chinese has no spaces, so \S* alone took it).
_METADATA = re.compile(r"^[\w\s]{1,20}[:：]\s*[^\s。，,！!？?；;…“「\"]*$|^(tag|date|title|author|description)\s*:", re.I)


def one_line(text: str) -> str:
    """``text`` with every run of whitespace, line breaks included, as one space (a list item's text)."""
    return " ".join(text.split())


def is_content(sentence: str) -> bool:
    """False for headings, metadata lines, questions and fragments."""
    s = sentence.strip().strip("“”\"'「」*#")
    if len(s) < 6 or _METADATA.match(s):
        return False
    if s.endswith(("?", "？")) or re.match(r"^(问题|Q)\d*[:：]", s):
        return False
    if detect_language(s) == "en":
        return len(s.split()) >= 5
    return len(s) >= 10


# A quote whose speaker is a pronoun: "「让他们陷入更多冲突的是双方都需要赚钱,」他说。", '"…," he said.'
_SAID_BY_PRONOUN = re.compile(r"[」”\"'’][,，]?\s*(?:他们|她们|他|她)(?:说|表示|指出|补充|写道|称)"
                              r"|[”\"'’],?\s+(?:he|she|they)\s+(?:said|says|added|told|wrote|noted)\b", re.I)


def speaker_is_pronoun(sentence: str) -> bool:
    """``sentence`` quotes someone it names only by a pronoun ("「…,」他说。"): who it is, the sentence before says."""
    return bool(_SAID_BY_PRONOUN.search(sentence))


def _open_quotes(sentence: str) -> int:
    """Quotation marks ``sentence`` opens, less those it closes (“「『 and ”」』; a straight " is both)."""
    return sum(sentence.count(c) for c in "“「『") - sum(sentence.count(c) for c in "”」』")


def quote_runs_on(sentences: list[str], i: int, most: int = 2) -> int:
    """How many sentences after sentence ``i`` of ``sentences`` its open quotation runs on into: 1 for
    "…Merav Ozair表示:“开源的意义在于…发展。" followed by "开源总是‘胜利’。”"; 0 when ``i`` closes
    every quote it opens or the quote is not closed within ``most`` sentences."""
    depth = 0
    for n, sentence in enumerate(sentences[i : i + most + 1]):
        depth += _open_quotes(sentence)
        if depth <= 0:
            return n
    return 0


def quote_opened_before(sentences: list[str], i: int, most: int = 3) -> int:
    """How many sentences before sentence ``i`` of ``sentences`` the quotation it closes was opened: 2 for
    "事实上,你爱上我了。」" after "或者告诉《纽约时报》的某位记者:「事实上,你的婚姻并不幸福。" and "你的配偶和你不爱
    对方……"; 0 when ``i`` closes no quote it did not open, or its opening is not within ``most`` sentences."""
    depth = 0
    for n in range(0, min(most, i) + 1):
        depth += _open_quotes(sentences[i - n])
        if depth >= 0:
            return n
    return 0
