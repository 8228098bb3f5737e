"""Follow-up questions offline: does a question lean on the conversation, and what topic it carries.

With an LLM the chain condenses the question with the history (``CONDENSE_PROMPT`` reads it as a
``transcript``, earlier answers cut short by ``brief``) unless it ``stands_alone``, and uses the
rewrite only when ``usable_rewrite`` says it is still a question that resolves something; offline,
the earlier question is joined to it, or ``carry_topic`` adds the earlier question's names and topic
words. A question leans on the conversation when it refers back (``refers_back``: a pronoun, a
demonstrative, "what about"), is too short to stand alone, or names no one; not when the user says
it is a new one (``switches_topic``: "Switching gears: …", "换个话题") or, naming no one, it brings
words the conversation never used (``new_topic``). ``messages`` turns chat history into LangChain
messages for the synthesis prompt. What it leaves out: the condense call itself (``rag.answer.chain``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from rag.answer.cite import strip_markers
from rag.answer.evidence import ZH_ASKING
from rag.answer.unknown import names
from rag.retrieval.glossary import name_groups, spellings
from rag.retrieval.question import for_search
from rag.retrieval.translate import content_words, segment
from rag.text import detect_language, keyword_tokens, one_line, without_question_words

History = Sequence[dict[str, str]]
_BULLET = re.compile(r"^\s*-\s+", re.M)
_FOLLOW_UP = re.compile(
    r"\b(he|she|it|they|him|her|his|hers|its|their|them|this|that|these|those|then|what about|and why)\b"
    r"|他|她|它|其|该|此|这|那|后来|然后|接着",
    re.I,
)
_ADVERB = re.compile(r"(?<=[\u4e00-\u9fffA-Za-z0-9])[这那]么")  # "为什么那么依赖": "so", not "that"
# "那篇讲Meta和xAI争夺Character.ai的FT文章": an article the question itself describes, not one pointed back to
_DESCRIBED = re.compile(r"[这那][篇份则][^，,。？?！!]{1,40}?(?:文章|报道|新闻|稿子)")
_SWITCH = re.compile(
    r"\b(switching gears|change of (topic|subject)|(different|another|new|unrelated|separate) (question|topic)"
    r"|on another note)\b|换个话题|换个问题|换一个话题|另外想问|另外问一下|顺便问|题外话",
    re.I,
)
NEW_TOPIC_WORDS = 3  # topic words a question naming no one brings, none said before, to stand on its own


def messages(history: History) -> list[BaseMessage]:
    """Chat turns (``{"role", "content"}``) as LangChain messages, empty turns left out."""
    return [
        HumanMessage(t["content"]) if t.get("role") == "user" else AIMessage(t.get("content", ""))
        for t in history
        if t.get("content")
    ]


BRIEF_ANSWER = 300  # characters of an earlier answer the condense call reads


def brief(history: History) -> list[dict[str, str]]:
    """The turns the condense call reads: each earlier answer cut to its first ``BRIEF_ANSWER``
    characters, without citation markers or bullets. Whole five-bullet answers made the
    1.5B model's rewrite of "他后来起诉了谁？" take 6.8 s instead of 1.6 s (the prompt is read at
    ~85 tokens/s), for the same rewrite: what a follow-up refers to is in the earlier question
    and the start of its answer."""
    return [dict(t, content=one_line(strip_markers(_BULLET.sub("", t.get("content", ""))))[:BRIEF_ANSWER])
            if t.get("role") != "user" else dict(t) for t in history]


def transcript(history: History) -> str:
    """The conversation as the condense call reads it: "User: …" and "Assistant: …" lines, each
    earlier answer ``brief``."""
    return "\n".join(f"{'User' if t.get('role') == 'user' else 'Assistant'}: {t['content']}"
                     for t in brief(history) if t.get("content"))


def named_in(question: str) -> set[str]:
    """The people and things ``question`` names: its own names, and glossary names by their English."""
    return set(names(question)) | {g[0] for g in name_groups(question) if g[0][:1].isupper()}


def new_names(question: str, history: History) -> list[list[str]]:
    """The people and things ``question`` names that no turn of ``history`` names, each in all its
    glossary spellings: "What is Grok?" after a conversation about Character.ai's talks turns to Grok
    ("How did Altman respond?" after an answer naming 山姆·奥特曼 does not). None when it points back
    with a pronoun or "what about": "…what did the emails Altman published say he actually handed
    over?" is still about the "he" of the conversation."""
    if refers_back(question):
        return []
    said = _said(history)
    named = [spellings(n) for n in sorted(named_in(question))]
    return [forms for forms in named if not any(f.lower() in said for f in forms)]


def refers_back(question: str) -> bool:
    """A pronoun, a demonstrative or "what about" ("How did he respond?", "那他为什么离开了？"), in a
    question the user does not call a new one (``switches_topic``: in "另外想问下，DuckDuckGo这类搜索引擎…"
    这类 points at DuckDuckGo). 这么 and 那么 inside a sentence are adverbs ("为什么那么依赖必应？": so
    much), not pointers; nor is 那篇 before the article's own description ("那篇讲Meta和xAI争夺
    Character.ai的FT文章里…"; "那篇文章" is one)."""
    return (bool(_FOLLOW_UP.search(_ADVERB.sub("", _DESCRIBED.sub("", question))))
            and not switches_topic(question))


def _said(history: History) -> str:
    """Every turn of ``history``, as one lower-cased text."""
    return " ".join(t.get("content", "") for t in history).lower()


def switches_topic(question: str) -> bool:
    """The user says the question is a new one: "Switching gears: …", "换个话题，…"."""
    return bool(_SWITCH.search(question))


def topic_terms(text: str) -> list[str]:
    """The words that carry a text's topic: English content words and Chinese dictionary words (two
    characters or more, question words left out), lower-cased."""
    return [w.lower() for w in content_words(text)] + segment(without_question_words(text))


def new_topic(question: str, history: History) -> bool:
    """A question that names no one but brings ``NEW_TOPIC_WORDS`` topic words the conversation never
    used: "Who was the AI consultant who said open source always wins?" after a question about Musk's
    offer is a new question (it was joined to the offer question and answered about the offer);
    "Who else was in the investor group?" is not (two words, one of them said)."""
    said = _said(history)
    fresh = [w for w in dict.fromkeys(topic_terms(question)) if w[:STEM] not in said]
    return len(fresh) >= NEW_TOPIC_WORDS


def leans_on_history(question: str, history: History = ()) -> bool:
    """A pronoun or "what about", too few words to stand alone unless it names two people or things
    ("Why did Musk leave OpenAI?" stands alone; "How did Altman respond?" does not), or no name
    of anyone or anything ("为什么不多持一些股份？": whose shares?) unless it is a ``new_topic`` or
    ``switches_topic``."""
    return _leans(question, len(named_in(question)), history)


def _leans(question: str, named: int, history: History) -> bool:
    if refers_back(question):
        return True
    if switches_topic(question):
        return False
    return (len(keyword_tokens(question)) <= 3 and named < 2) or (not named and not new_topic(question, history))


def stands_alone(question: str, history: History = ()) -> bool:
    """A question the model need not condense: it leans on nothing and names two people or things
    ("微软持有OpenAI多少股份？"), says it is a new one, or names no one and is a ``new_topic``. One that
    names one may still leave out what it is about ("微软是通过什么服务来卖的？": sells what?), so it
    is condensed."""
    named = len(named_in(question))
    if _leans(question, named, history):
        return False
    return named >= 2 or switches_topic(question) or not named


def carry_topic(question: str, previous: str) -> str:
    """Offline follow-up: the question, plus the earlier question's names and topic words it lacks.

    A follow-up that leans on the conversation ("How did he respond?", "他怎么回应？")
    keeps its own words first, so retrieval looks for what is asked now, and borrows
    only the earlier question's topic terms (names from the glossary, capitalised
    words, content words), not its question words.
    """
    if not leans_on_history(question, [{"role": "user", "content": previous}]):
        return question
    own = set(keyword_tokens(question))
    words = re.findall(r"[A-Za-z][A-Za-z0-9.-]{2,}|[\u4e00-\u9fff]{2,}", previous)
    topic = [w for w in words if keyword_tokens(w) and not set(keyword_tokens(w)) <= own
             and (detect_language(w) == "zh" or w in content_words(w))]
    return f"{question} {' '.join(dict.fromkeys(topic))}".strip()


def usable_rewrite(rewritten: str, question: str, history: History) -> bool:
    """Is a model's condensed follow-up a question, in the question's language, of sensible length,
    that brings in something from the conversation (``history``, the turns the condense call read) and
    keeps something of its own?

    A small model asked to rewrite "那他为什么离开了？" sometimes answers it instead
    ("他离开了OpenAI，因为他在2014年被推翻了。"), hands it back unchanged or reworded
    ("这发生在哪天？" for "这是哪天发生的？") or hands back the earlier question ("What did Musk
    tweet about OpenAI after suing it?" for "And how did OpenAI react at first?"): a rewrite that
    does not end as a question, changes language, runs far longer than the question and the
    conversation, adds no word of the conversation or has no word the earlier questions lack is not
    used (the offline follow-up is searched instead); nor one that keeps none of a Chinese follow-up's own
    words (``keeps_own_chinese``). Nor is one that drops every word the follow-up
    adds to the conversation: "How did Altman respond?" after a question about Musk's offer came back
    as "What did Sam Altman, the CEO of OpenAI, do when Elon Musk offered him $97.4 billion to buy
    the company?", which asks for the offer again (``keeps_own_words``). Nor one that names none of
    the people or things the latest question named, when the follow-up names none itself: "Why did
    he reject it?" after "What did Altman say back?" came back as "Why did Elon Musk reject the offer
    from OpenAI?" (a pronoun refers to someone just asked about).
    """
    text = rewritten.strip()
    words = set(keyword_tokens(for_search(text)))
    asked = set(keyword_tokens(question))
    turns = brief(history)
    said = {w for t in turns for w in keyword_tokens(for_search(t.get("content", "")))}
    asked_before = {w for t in turns if t.get("role") == "user" for w in keyword_tokens(for_search(t["content"]))}
    latest = next((t["content"] for t in reversed(turns) if t.get("role") == "user"), "")
    return (text.endswith(("?", "？")) and detect_language(text) == detect_language(question)
            and len(text) <= 2 * (len(question) + len(transcript(history)))
            and bool((words - asked) & said)
            and not words <= asked_before
            and keeps_own_words(words, {w for w in asked if w.isascii() and w.isalpha()} - said)
            and keeps_own_chinese(text, question, _said(turns))
            and keeps_a_name(text, question, latest))


# Words a Chinese follow-up asks with or points with, not what it is about.
_ZH_FILLER = ZH_ASKING | frozenset("这种 这个 那个 这些 那些 这样 那样 这么 那么 他们 它们 一个".split())


def keeps_own_chinese(rewritten: str, question: str, conversation: str) -> bool:
    """Does a rewrite keep at least one of the Chinese follow-up's own dictionary words (two characters or more;
    not question or pointing words, nor words the ``conversation`` has said), when it has any? "那文章作者认同这种说法吗？"
    (作者, 认同, 说法) came back as "谁在2023年发表了一篇论文，该论文声称GPT-4…？", the earlier question again, answered.
    Whole words, not character pairs: "为什么不多持一些股份？" keeps 股份 in "为什么微软只持有OpenAI 49%的股份？"."""
    if detect_language(question) != "zh":
        return True
    said, kept = for_search(conversation), for_search(rewritten)
    own = [w for w in segment(for_search(question)) if w not in _ZH_FILLER and w not in said]
    return not own or any(w in kept for w in own)


def keeps_a_name(rewritten: str, question: str, latest: str) -> bool:
    """A rewrite names someone or something the ``latest`` user question named, or the follow-up
    ``question`` names someone itself, or the latest question named no one."""
    before = named_in(latest)
    return not before or bool(named_in(question)) or bool(before & named_in(rewritten))


STEM = 5  # letters an English word and its other forms share ("respond", "response", "responded")


def keeps_own_words(words: set[str], own: set[str]) -> bool:
    """Does a rewrite (its keyword tokens, ``words``) keep at least one of the follow-up's own English
    words (``own``: those the conversation has not said), when it has any? A word counts as kept in
    another form of it (its first ``STEM`` letters). Chinese is left out: its tokens are character
    pairs, and a faithful rewrite of "为什么不多持一些股份？" ("为什么微软只持有OpenAI 49%的股份？")
    shares none of the pairs the conversation lacks."""
    stems = {w[:STEM] for w in words if w.isascii() and len(w) >= STEM}
    return not own or any(w in words or (w.isascii() and len(w) >= STEM and w[:STEM] in stems) for w in own)
