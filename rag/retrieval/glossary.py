"""A small bilingual glossary of names that news about AI companies uses.

The keyword index matches words, so an English question cannot match a Chinese
passage by keywords alone; expanding names across scripts (Musk ↔ 马斯克)
lets the keyword side help cross-lingual questions. ``GROUPS`` holds proper names
and a few fixed terms, which prompts gloss in English; ``TERMS`` a few words that
only search and topic coverage match across languages; ``ONE_WAY`` words that stand for a term
in a question but do not expand it (分道扬镳 asks why someone left). No general vocabulary:
dense retrieval carries meaning.
"""

from __future__ import annotations

_TWITTER = ["Twitter", "推特"]
# Each group: spellings of one name, English first.
GROUPS: list[list[str]] = [
    ["Musk", "Elon Musk", "马斯克", "埃隆", "伊隆"],
    ["Altman", "Sam Altman", "奥特曼", "奥尔特曼", "阿尔特曼", "山姆", "萨姆"],
    ["Brockman", "布罗克曼", "布洛克曼"],
    ["Microsoft", "微软"],
    ["Tesla", "特斯拉"],
    ["Google", "谷歌"],
    _TWITTER,
    ["Nvidia", "英伟达"],
    ["Intel", "英特尔"],
    ["Amazon", "亚马逊"],
    ["Meta", "Facebook", "脸书"],
    ["Nadella", "纳德拉"],
    ["Karpathy", "卡帕西"],
    ["Wall Street Journal", "华尔街日报"],
    ["New York Times", "纽约时报"],
    ["Bloomberg", "彭博"],
    ["San Francisco", "旧金山"],
    ["China", "Chinese", "中国"],  # "Which Chinese rival…": the dictionary gives "Chinese" only 中文, 汉语
    ["United States", "American", "美国"],
    ["Silicon Valley", "硅谷"],
    ["OKEx", "欧易"],
    ["Optimus", "擎天柱"],
    ["DeepMind", "深度思维"],
    ["AGI", "通用人工智能"],
    ["LLM", "大型语言模型", "大语言模型"],
    ["nonprofit", "non-profit", "非营利", "非盈利"],
    ["lawsuit", "诉讼", "起诉", "诉状"],
    ["co-founder", "cofounder", "联合创始人"],
]
# Words that match across languages for search and topic coverage only: unlike GROUPS, they
# are not names, so prompts do not gloss them ("宣布退出 (leave)" made the model write "(leave)")
# and the conflict finder does not take them for parties.
TERMS: list[list[str]] = [
    ["leave", "left", "departure", "离开", "退出"],  # news says 退出 (quit the board) where a question asks 离开 / "leave"
    ["open source", "open-source", "开源"],  # not in CC-CEDICT
]

# Words that mean a term one way only: a question saying Musk and OpenAI "parted ways" (分道扬镳) asks
# why he left; a question asking why he left does not ask where "双方分道扬镳多年" is written.
ONE_WAY: dict[str, list[str]] = {"分道扬镳": TERMS[0], "part ways": TERMS[0], "parted ways": TERMS[0],
                                  # a tweet is said on Twitter: "马斯克发推时说…" asks what he wrote 在推特上
                                  **{w: _TWITTER for w in ("发推", "tweet", "tweeted", "tweets")}}

_INDEX: dict[str, list[str]] = {}
for _group in GROUPS + TERMS:
    for _term in _group:
        _INDEX[_term.lower()] = _group
_INDEX.update(ONE_WAY)
# each group with every word that names it in a question, lower-cased (its own and its one-way words)
_SAID: list[tuple[list[str], list[str]]] = [
    (g, [t.lower() for t in [*g, *(w for w, one in ONE_WAY.items() if one is g)]]) for g in GROUPS + TERMS
]


def spellings(name: str) -> list[str]:
    """``name`` as written, then every spelling of each glossary name it holds ("Altman" → Altman, Sam
    Altman, 奥特曼, …); ``[name]`` alone for a name the glossary lacks."""
    return [name, *(t for g in name_groups(name) for t in g)]


def expansions(text: str) -> list[str]:
    """Spellings in other scripts of every glossary name that ``text`` contains."""
    lowered = text.lower()
    out: list[str] = []
    for term, group in _INDEX.items():
        if term in lowered:
            out.extend(t for t in group if t.lower() not in lowered and t not in out)
    return out


def name_groups(text: str) -> list[list[str]]:
    """The glossary groups (all spellings of one name or term) that ``text`` mentions, in glossary order."""
    lowered = text.lower()
    seen: list[list[str]] = []
    for group, said in _SAID:
        if any(t in lowered for t in said) and group not in seen:
            seen.append(group)
    return seen
