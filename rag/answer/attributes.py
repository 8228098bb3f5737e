"""What a question asks of someone that only a sentence saying it in so many words can answer.

A near-miss question asks about people and companies the articles cover, for a fact they
do not hold: "What salary does Sam Altman earn as OpenAI's CEO?", "What was the court's
verdict in Musk's lawsuit?", "奥特曼结婚了吗？", "人形机器人公司Figure是谁创办的？". Every
similarity signal finds sentences about Altman, the lawsuit or Figure, and the salary, the
verdict, the marriage or the founder is in none of them. A few such facts have a word
no answer can do without (a salary is 薪, 工资 or "salary"; a founder is 创办, 创立 or 创始; not
创建, "create", nor 成立, "set up": "…使用大型语言模型创建聊天机器人的AI初创公司" does not say who
founded Character.ai). ``unstated`` lists those a question asks that no evidence sentence says (its
neighbours are context: "Figure的投资方…包括微软和OpenAI成立的创业基金", beside the sentence about
Figure's funding, does not say who founded Figure); ``unwritten`` those no article says at all,
which a refusal can name. Who founded something is asked only by a who-question ("Who founded
…?", "…是谁创办的？"): "OpenAI's founders pledged…" asks how much, not who; when someone joined, only by
a when-question ("When did Jason Kwon join OpenAI?", not "How can I join the reader group?").

Only a short fixed table, of facts a person or a company has: refusing any question whose
asked-for noun no article holds (``rag.answer.focus``) refused answerable questions whose noun
the articles name only by instances. What it leaves out: the refusal (``rag.answer.refusal``)
and figures (``rag.answer.relations``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.answer.evidence import mentions
from rag.retrieval.question import Kind

# (name, Chinese words, English words), each side also the words a sentence must hold
_TABLE: list[tuple[str, list[str], str]] = [
    ("salary", ["薪", "薪水", "薪酬", "年薪", "工资", "报酬"], r"salar(?:y|ies)|wages?|compensation|paycheck"),
    ("verdict", ["判决", "裁决", "裁定", "判定", "胜诉", "败诉"], r"verdicts?|rulings?"),
    ("married", ["结婚", "婚姻", "已婚", "妻子", "丈夫", "配偶"], r"marri(?:ed|age)|marry|wife|husband|spouse"),
    ("hearing", ["听证", "开庭", "庭审"], r"hearings?"),
    ("founded", ["创办", "创立", "创始"], r"found(?:ed|er|ers|ing)|established"),
    ("joined", ["加入", "入职", "加盟"], r"join(?:s|ed|ing)?"),
]
_ASKED_ONLY_BY = {"founded": "who", "joined": "when"}  # "When did Jason Kwon join OpenAI?"; not "how to join"
_CHINESE = {name: zh for name, zh, _ in _TABLE}
_PATTERNS = {name: re.compile("|".join([*zh, rf"\b(?:{en})\b"]), re.I) for name, zh, en in _TABLE}


def asked(question: str, kind: Kind) -> dict[str, str]:
    """The facts of the table ``question`` asks, each with the question's own word for it."""
    out: dict[str, str] = {}
    for name, rx in _PATTERNS.items():
        m = rx.search(question)
        if m and _ASKED_ONLY_BY.get(name, kind) == kind:
            out[name] = m.group()
    return out


def unstated(question: str, kind: Kind, texts: Sequence[str], named: Sequence[Sequence[str]] = ()) -> dict[str, str]:
    """The facts the question asks (``asked``) that none of ``texts`` (the evidence, each sentence with its
    neighbours) states in any of the fact's words, beside one of the question's names (``named``, each in
    all its spellings): "2015年,OpenAI由…11位联合创始人共同创立" says who founded OpenAI, not Character.ai,
    so it does not answer "Who founded Character.ai?"."""
    return {name: word for name, word in asked(question, kind).items()
            if not any(_PATTERNS[name].search(t) and mentions(named, t) for t in texts)}


def unwritten(facts: dict[str, str], known: Callable[[str], bool]) -> list[str]:
    """Of the ``unstated`` facts, the question's words for those no article writes: neither the word
    itself nor any of the fact's Chinese words of two characters or more (``known``: the corpus
    vocabulary). What a refusal can name ("None of them mentions salary"), unlike a founder, which
    the articles name for others."""
    return [word for name, word in facts.items()
            if not known(word) and not any(known(w) for w in _CHINESE[name] if len(w) > 1)]
