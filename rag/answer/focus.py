"""What a how-many question counts: the noun right after its question word.

"How many employees does OpenAI have?" counts employees, "马斯克有几个孩子？" children,
"有多少名高管离职？" executives. Such a question is answered only by a sentence that
counts what it asks about ("约20名高管", "11 co-founders"); sentences about OpenAI's
staff that count nothing do not say how many. ``rag.answer.evidence`` reads ``counted``
into ``Evidence.states_figure``, and the refusal follows from that.

Tried and not kept: refusing any question whose asked-for noun ("What salary…",
"What was the court's verdict…") no article holds in any form. On dev it refused two
near-miss questions and nothing answerable; on test it refused five answerable ones
whose noun is a category the articles name only by instances ("partnership",
"researcher", 角色, 身份). A short fixed table of facts that need their own word is kept
(``rag.answer.attributes``: a salary, a verdict, who founded something).

What it leaves out: figures of a relation (``rag.answer.relations``: "how much did he
give" is a gift, not a count) and the refusal itself (``rag.answer.refusal``).
"""

from __future__ import annotations

import re

from rag.retrieval.translate import Known, chinese_to_english, segment, stems, word_variants
from rag.text import STOPWORDS, detect_language

_EN_COUNTED = re.compile(r"\bhow many\s+([a-z][a-z'’-]*)", re.I)
_ZH_COUNTED = re.compile(r"(?:几|多少)(?:个|名|位|家|种|款|项|只|条)([\u4e00-\u9fff]{2,})")


def counted_word(question: str) -> str | None:
    """The noun a how-many question counts ("employees", "孩子"), or None."""
    if detect_language(question) == "en":
        m = _EN_COUNTED.search(question)
        word = m.group(1).lower() if m else None
        return word if word and word not in STOPWORDS and len(word) >= 3 else None
    m = _ZH_COUNTED.search(question)
    words = segment(m.group(1)) if m else []
    return words[0] if words and m and m.group(1).startswith(words[0]) else None


def forms(word: str, known: Known) -> list[str]:
    """``word`` in every form the articles may use: its plain forms and translations (both directions)."""
    if detect_language(word) == "en":
        parts = dict.fromkeys([word, word.rsplit("-", 1)[-1]])  # "co-founders" are counted as founders
        return list(dict.fromkeys([*(f for w in parts for f in stems(w)), *(f for w in parts for f in word_variants(w, known))]))
    return [word, *(w for t in chinese_to_english(word) for w in t.split() if w not in STOPWORDS)]


def counted(question: str, known: Known) -> list[str] | None:
    """Every form of what a how-many question counts ("employees" → employee, 员工, …); None otherwise."""
    word = counted_word(question)
    return forms(word, known) if word else None

