"""Is a restated sentence faithful to its source? Figures and names, checked in code.

A small model restating a Chinese sentence in English leaves some of it in Chinese
("Tesla has been挖走了 Andrej Karpathy"), garbles 万/亿 (974亿美元
became "$974 billion") and invents names ("Mark Zuckerberg" for 马斯克). Before
a restatement is shown, every figure in it must have the same value as a
figure in the source (``rag.numbers``: 4500万 = $45 million), every day of a date
must be one the source states ("March 3rd" for 3 月初 fails), and every
capitalised name in it (a sentence's first word too, when another capitalised word
follows it: "Tesla CEO Elon Musk") must be written in the source, be the English of a
glossary name the source contains, a dictionary translation of one of its words
("Congress" for 国会) or a month it states ("February" for 2月); an ordinary word may be written with
a sourced name ("President Brockman"). A role given to a glossary name ("Musk, the CEO of OpenAI",
"CEO Altman") must stand right before that name in the source (首席执行官奥尔特曼): the model moves
titles between people. A small model also adds appositives from its
own knowledge ("Andrej Karpathy, a former Google employee, ..."), a year to a month the source
dates only by "同年" (the same year), and leaves a word in Chinese ("Musk,逐一 refuting"):
``repaired`` drops such a year, gives a copied Chinese word its dictionary English ("one by one"),
drops a short aside (between commas, or in brackets) that holds the unsourced name or figure, and
checks the rest again. A restatement that still fails is replaced by the
source sentence itself, quoted. (A sentence already in the reader's language is not
restated at all: ``rag.answer.restate``.) What it leaves out: meaning
beyond figures and names (the citation support check in ``rag.answer.cite`` covers the rest).
"""

from __future__ import annotations

import re

from rag.dates import MONTHS, find_dates
from rag.retrieval.glossary import name_groups
from rag.retrieval.translate import dictionary, english_to_chinese, segment
from rag.numbers import numbers, same
from rag.text import MIDDLE_DOT, STOPWORDS, cjk_ratio, detect_language, has_han

_AMOUNT = re.compile(r"\d[\d,.]*\s*[万亿萬億]*\s*(?:美元|港元|元)?")  # "974亿美元 ($97.4 billion)" may stay
_NAME = re.compile(r"(?<![.!?]\s)(?<![\"“‘])(?<!^)\b[A-Z][a-z]{2,}(?:[A-Z][a-z]+)*\b")


# A sentence's first word is capitalised anyway; it is a name when another capitalised word follows
# ("Tesla CEO Elon Musk said", where the source said 马斯克), unless it is a function word ("The OpenAI board").
# Quoted speech opens a sentence too: 回应道:“不用了,…” became 'responded: "Enough, but…"'.
_LEADING_NAME = re.compile(r"(?:^|(?<=[.!?]\s)|(?<=[\"“‘]))[A-Z][a-z]{2,}(?:[A-Z][a-z]+)*(?=\s+[A-Z])")


def _names(text: str) -> set[str]:
    text = text.strip()
    found = {m.group(0) for m in _LEADING_NAME.finditer(text)} | {m.group(0) for m in _NAME.finditer(text)}
    return {w for w in found if w.lower() not in STOPWORDS}  # "The" after a closing quote is no name


_GIVEN_NAME = rf"[\u4e00-\u9fff]{{1,4}}{MIDDLE_DOT}\s*"  # a given name in characters before a surname: "萨蒂亚・"
_BRACKETED = re.compile(r"\s\([^()]{1,60}\)")  # an aside in brackets: " (from Google)"
# A Chinese word the model copied into its English, standing on its own ("…and Musk,逐一 refuting…"):
# not glued to a Latin word ("killer锏" is half a word, not a copied one).
_LEFT_IN_CHINESE = re.compile(r"(?<![A-Za-z])[\u4e00-\u9fff]{2,}(?![A-Za-z])")
MAX_ASIDE_WORDS = 6  # a longer stretch between commas is part of the claim, not an aside


_MONTH_YEAR = re.compile(rf"\b((?:{'|'.join(MONTHS)})(?: \d{{1,2}}(?:st|nd|rd|th)?)?),? ((?:19|20)\d\d)\b")
_ZH_MONTH_NUMERALS = "一 二 三 四 五 六 七 八 九 十 十一 十二".split()


def _states_month(source: str, name: str) -> bool:
    """``source`` names the month ``name`` the Chinese way (2月29日, 同年11月, 三月)."""
    i = MONTHS.index(name) + 1
    return bool(re.search(rf"(?<!\d){i}\s*月|(?<![一二三四五六七八九十]){_ZH_MONTH_NUMERALS[i - 1]}月", source))


def faithful(restated: str, source: str) -> bool:
    """True when an English ``restated`` has no Chinese left in it, and every figure, every day of a
    date and every mid-sentence capitalised name of ``restated`` is in ``source``
    (a name also as the English of a glossary name, a dictionary translation of a word in it
    ("Congress" for 国会), or a month it states: "February" for 2月)."""
    if detect_language(restated) == "en" and cjk_ratio(_AMOUNT.sub("", restated)) > 0:
        return False  # half translated: "Tesla has been挖走了 Andrej Karpathy"
    have = numbers(source)
    if any(not any(same(v, h) for h in have) for v in numbers(restated)):
        return False
    stated = {(d.month, d.day) for d in find_dates(source)}
    if any(d.day and (d.month, d.day) not in stated for d in find_dates(restated)):
        return False  # a day the source does not state ("March 3rd" for 3 月初, early March)
    allowed = {w for g in name_groups(source) for t in g for w in t.split()}
    lowered = source.lower()

    def sourced(n: str) -> bool:
        return (n.lower() in lowered or n in allowed or (n in MONTHS and _states_month(source, n))
                or bool(english_to_chinese(n, lambda z: z in source)))

    names = _names(restated)
    missing = {n for n in names if not sourced(n)}
    return (all(_titles(n, restated, names - missing) or _given_name(n, restated, source) for n in missing)
            and _roles_hold(restated, source))


def _given_name(word: str, restated: str, source: str) -> bool:
    """``word`` is the given name before a glossary surname that ``source`` writes as a full name in
    characters ("Satya Nadella" for 萨蒂亚・纳德拉): no dictionary checks a transliterated given name, and
    the translation was quoted in Chinese for it."""
    after = re.search(rf"\b{re.escape(word)}\s+([A-Z][a-z]+)\b", restated)
    if after is None:
        return False
    spellings = [t for g in name_groups(after.group(1)) for t in g if has_han(t)]
    return any(re.search(rf"{_GIVEN_NAME}{re.escape(z)}", source) for z in spellings)


# A person's role in English and the words Chinese news writes it with, right before the name
# ("首席执行官奥尔特曼", "特斯拉创始人埃隆·马斯克", "总裁布罗克曼").
_ROLES: dict[str, tuple[str, ...]] = {
    "ceo": ("首席执行官", "执行长", "CEO"),
    "chief executive": ("首席执行官", "执行长", "CEO"),
    "president": ("总裁", "总统", "主席"),
    "chairman": ("董事长", "主席"),
    "founder": ("创始人", "创办人"),
    "co-founder": ("联合创始人", "创始人"),
}
_ROLE = "|".join(sorted((re.escape(r) for r in _ROLES), key=len, reverse=True))
_CAPS = r"[A-Z][a-z]+(?:\s[A-Z][a-z]+)?"
_ROLE_THEN_NAME = re.compile(rf"\b((?i:{_ROLE}))\s+({_CAPS})")  # "CEO Altman", "founder Elon Musk"
_NAME_THEN_ROLE = re.compile(rf"\b({_CAPS}),\s+(?:the\s+|its\s+|a\s+)?((?i:{_ROLE}))\b")  # "Musk, the CEO of OpenAI"
ROLE_GAP = 4  # characters between the role and the name in the source: "创始人埃隆·马斯克"


def _roles_hold(restated: str, source: str) -> bool:
    """Every role the translation gives a glossary name ("Musk, the CEO of OpenAI", "President
    Brockman") is written right before that name in the source. The 1.5B model moves titles:
    "对OpenAI及其联合创始人,公司首席执行官奥尔特曼和总裁布罗克曼提起诉讼" became "Musk, the CEO of
    OpenAI and its founders, including Altman and Brockman, filed a lawsuit"."""
    pairs = [(m.group(1), m.group(2)) for m in _ROLE_THEN_NAME.finditer(restated)]
    pairs += [(m.group(2), m.group(1)) for m in _NAME_THEN_ROLE.finditer(restated)]
    for role, name in pairs:
        spellings = [t for g in name_groups(name) for t in g if detect_language(t) == "zh"]
        if not spellings:
            continue  # not a name the glossary knows: the names check covers it
        titles = _ROLES[role.lower()]
        if not any(re.search(rf"(?:{'|'.join(map(re.escape, titles))}).{{0,{ROLE_GAP}}}(?:{_GIVEN_NAME})?{re.escape(z)}", source)
                   for z in spellings):
            return False
    return True


def _titles(word: str, restated: str, sourced: set[str]) -> bool:
    """``word`` is an ordinary English word written as part of a name the source holds: a title before
    it ("President Brockman" for 总裁布罗克曼) or a product's word after it ("Microsoft Office" for
    微软办公软件). An invented name is not a dictionary word ("Zuckerberg"), or stands next to no
    sourced name ("Mark Zuckerberg"), or is a name the glossary knows ("Google Musk")."""
    if name_groups(word) or not english_to_chinese(word.lower(), lambda z: True):
        return False  # a name the glossary knows ("Google") is a name, whatever the dictionary says
    around = "|".join(re.escape(n) for n in sourced)
    return bool(around) and bool(re.search(rf"\b(?:{around})\s+{word}\b|\b{word}\s+(?:{around})\b", restated))


def _dictionary_words(restated: str, source: str) -> str:
    """``restated`` with each Chinese word it copied from ``source`` given in English by the dictionary
    (CC-CEDICT's first sense), when the dictionary has every word of it: "Musk,逐一 refuting" → "Musk,
    one by one refuting"; anything else is left as it is."""
    d = dictionary()
    if d is None:
        return restated
    english_of = d.zh_to_en

    def english(m: re.Match[str]) -> str:
        run = m.group()
        words = segment(run)
        if run not in source or "".join(words) != run or not all(w in english_of for w in words):
            return run
        return f" {' '.join(english_of[w] for w in words)} "

    text = _LEFT_IN_CHINESE.sub(english, restated)
    return restated if text == restated else re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"\s+", " ", text)).strip()


def repaired(restated: str, source: str) -> str | None:
    """``restated`` if faithful; else, with a year the source does not state dropped after a month,
    the result if faithful; else, with Chinese words it copied given in English, the result if
    faithful; else, with each short aside that fails the check on its own
    removed (a stretch between two commas, or in brackets), the result if that is faithful; else None."""
    if faithful(restated, source):
        return restated
    have = numbers(source)  # a year the model added to a month ("同年11月" → "November 2021") is dropped
    restated = _MONTH_YEAR.sub(lambda m: m.group(1) if not any(same(float(m.group(2)), h) for h in have)
                               else m.group(0), restated)
    if faithful(restated, source):
        return restated
    restated = _dictionary_words(restated, source)
    if faithful(restated, source):
        return restated
    kept = _BRACKETED.sub(lambda m: m.group(0) if faithful(m.group(0), source) else "", restated)
    parts = kept.split(", ")
    # "x " before a part: its first word is mid-sentence, so a name there is checked (``_NAME``
    # skips a sentence's first word)
    inner = [i for i in range(1, len(parts) - 1)
             if len(parts[i].split()) <= MAX_ASIDE_WORDS and not faithful(f"x {parts[i]}", source)]
    kept = ", ".join(part for i, part in enumerate(parts) if i not in inner)
    return kept if kept != restated and faithful(kept, source) else None
