"""Choose the sentences that answer the question: the evidence both answerers use.

Every sentence of the retrieved passages is scored, without mutating anything:

1. its best mean-centred cosine to the question or its translation (``Sentence.score``), and for a
   follow-up also to what the user typed: the question searched is mostly the earlier one, and
   "How did Altman respond?" after the offer question is answered by the reply, not the offer again;
2. plus the share of the question's terms it contains, counted across languages
   (the question's keyword tokens, its glossary names and its dictionary translation);
3. plus a bonus when it carries what the question's kind asks for: a cause for
   "why", a number for "how much", a date for "when", a reply for "how" (``question.CUES``), what the
   thing is for "What is X?" (``question.cue_for``: "一款名为Grok的…模型"), and those lead;
4. for "how much", plus a bonus when it states a figure of the relation asked (a stake for
   "多少股份", a gift for "how much did he give": ``relations.states_asked_figure``);
5. plus a bonus when it holds a phrase the question quotes (``question.quoted``: "说…“都将试图用类似的
   产品赚钱”的是哪位专家？"), whose own sentence the embedder placed below twenty others;
6. plus a small tie-breaker for the passage's fused rank.

A topic word that names a relation counts in any of the relation's words
(股份 is also 占股, 持股, 股权: ``relations.relation_forms``).

Sentences that carry no content (headings, metadata lines, questions, lone quotes)
are skipped; near-identical sentences count once, and so does a sentence that another
passage holds whole ("…以讽刺的方式回应道:" where a passage ends, with the reply it introduces
in the next). The best few, within a score margin of the best, become ``EvidenceItem``s with the sentence before and after
them as context; for a how-much question, a sentence stating a figure of the relation
asked counts within twice the margin (sources disagree on how much Musk gave: each
figure is evidence). A sentence that opens by pointing back ("这一提议遭到了……拒绝",
"He founded…") is one unit with the sentence before it in its paragraph, and a sentence
ending with a colon one unit with what it introduces (and scored as that unit: on dev, passage
hit@5 0.935 → 0.946, fact recall 0.835 → 0.840): chosen
alone it would not say what "this proposal" or "he" is, so it brings its antecedent,
and a chosen sentence brings such a follow-on when that also scores within the
margin, or says what a when, how-much or why question asks ("也许这会在接下来的6-12个月内发生")
(the quote is then both sentences, verbatim, with their joint span). A quotation that opens in
one sentence and closes in a later one (up to three before, two after) is quoted whole, from its
opening to its close ("…Merav Ozair表示:“开源的意义在于…发展。开源总是‘胜利’。”"); a sentence echoing the
one before ("马斯克也附和道:…") brings it (it holds the year, 2015); a list of short lines answering a
question the article asks on the line before ("X.ai、Twitter和特斯拉之间的关系会是怎样的呢？" then the talent,
data and compute lines) is one unit with that question, scored at its best line; prose answering such a
question of the same kind as the user's is scored with its words, at its similarity up to the best any sentence
has alone (``question_before``). An ellipsis inside a line ends no quoted sentence (``trails_off``). A why
question's evidence says, in or beside it, what the question asks about, when enough does. A question that asks
two things (``question.compound``) keeps evidence within a slightly wider margin. A question naming an outlet
("according to Jiemian", "the OKEx piece": ``rag.answer.outlets``) is answered from that outlet's articles, when
some candidate is one. A quote whose speaker is a pronoun ("「…,」他说。") is quoted with the sentence naming
the speaker (``said_by_before``).
``term_overlap`` (how much of the question the evidence covers, in any language)
and ``states_figure`` (a question that asks how much, also beside another kind
("How many … currently …?" is a "latest" question too), has evidence stating a figure of the relation
asked, or a count of what a how-many question counts, ``rag.answer.focus``, or, when it
names neither, some amount or count; in a sentence that names, or stands next to one that names,
someone or something the question names, when it names any: ``mentions``)
go with the best similarity into the refusal decision. A question that asks only how much is
answered by the sentences stating the figure, when some do; the others are dropped from the
items but stay in ``Evidence.checked``, which the embedded model's yes/no check reads (with the
49% sentence alone it said no to "微软持有OpenAI多少股份？").
What it leaves out: the refusal threshold itself, and composing the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.dates import DATE_WORDS, find_dates
from rag.models import Evidence, EvidenceItem, Passage, Sentence
from rag.retrieval.question import CUES, Kind, asked_name, compound, cue_for, follow_up_kinds, holds_phrase, kinds
from rag.retrieval.question import kind as question_kind
from rag.text import (char_tokens, detect_language, is_content, keyword_tokens, near_duplicate,
                      quote_opened_before, quote_runs_on, speaker_is_pronoun)
from rag.answer.focus import counted
from rag.answer.outlets import named_outlets
from rag.answer.framing import forged
from rag.answer.relations import relation_forms, relations_asked, states_asked_figure, states_figure
from rag.retrieval.glossary import name_groups, spellings
from rag.retrieval.translate import Known, content_words, segment, unnamed, word_variants

TERM_WEIGHT = 0.15
CUE_WEIGHT = 0.05
FIGURE_WEIGHT = 0.15
QUOTE_WEIGHT = 0.3  # the words the user quotes, as written: above any similarity the embedder gives
RANK_WEIGHT = 0.02
MAX_ITEMS = 5
MARGIN = 0.12
COMPOUND_MARGIN = 0.03  # added to the margin for a question that asks two things
FIGURE_MARGIN = 0.24  # for a sentence stating a figure of the relation a how-much question asks

# A sentence opening with a word that points back to the sentence before it.
# Also after a short adverb or conjunction: "也许这会在接下来的6-12个月内发生", "But this…".
_POINTS_BACK = re.compile(r"^(?:(?:也许|或许|可能|但|而|但是|不过|然而|其实|所以|因此|于是)?(?:这一|这些|这个|这种|这项|这次|这笔|这场|这篇"
                          r"|这就|这与|这|此举|此事)|该|对此|他们|他|她|它"
                          r"|(?:(?:But|And|Perhaps|Maybe|So|Yet)\s+)?(?:[Tt]his|[Tt]hat|[Tt]hese|[Tt]hose|[Hh]e|[Ss]he|[Tt]hey"
                          r"|Such)\b"
                          r"|[^，,。：:“”\"]{1,12}?也(?:附和|呼应|赞同|同意))")  # "马斯克也附和道:" echoes the one before


# Chinese question words: what is asked, not what the evidence must contain.
ZH_ASKING = frozenset("为什么 什么 怎么样 怎么 多少 哪些 哪个 哪里 哪所 哪家 哪位 是否 如何 有没有 何时 什么时候 为何 原因 "
                      "是不是 可以 能否 请问 一下 一些 根据 文章 报道 最新 最近 这篇 分别 到底 究竟 具体 几个 怎样 多久 多大 "
                      # a follow-up's connectives: "他后来起诉了谁？" asks who he sued, not about 后来 (which no
                      # article writes, so the question was refused as "文章中没有提到后来")
                      "后来 然后 接着 之后 "
                      # what the articles say about something: "两篇文章分别是怎么介绍马斯克的Grok的？" asks about Grok,
                      # not about 介绍 (which no article writes, so it was refused as "文章中没有提到介绍")
                      "介绍 描述 形容 讲述 看待 "
                      # hedges: "马斯克现在身家大概多少？" asks how much, not about 大概 ("roughly")
                      "大概 大约 大致 左右 差不多".split())


def topic_words(question: str, known: Known) -> list[list[str]]:
    """The question's topic words, each with every form it may take in the articles.

    English: each content word with its glossary names and dictionary translations; a glossary
    phrase ("open source", "Wall Street Journal") is one topic word in all its spellings, not its words.
    Chinese: each dictionary word of the question (question words left out), plus
    each glossary name in all its spellings.
    """
    if detect_language(question) == "en":
        lowered = question.lower()
        said = [t for g in name_groups(question) for t in g if " " in t and t.lower() in lowered]  # "open source"
        phrases = [g for g in name_groups(question) if any(t in said for t in g)]
        inside = {w.lower() for t in said for w in t.split()}
        return [[*word_variants(w, known), *relation_forms(w)] for w in content_words(question)
                if w.lower() not in inside] + [list(g) for g in phrases]
    names = name_groups(question)
    spelled = {t for g in names for t in g}
    groups: list[list[str]] = [[w, *relation_forms(w)] for w in dict.fromkeys(segment(unnamed(question)))
                               if w not in ZH_ASKING and w not in spelled]
    groups += [[w] for w in re.findall(r"[A-Za-z][A-Za-z0-9.-]+", question) if w not in spelled]
    return groups + [list(g) for g in names]


def is_name(forms: Sequence[str]) -> bool:
    """A topic word that names someone or something: a word with a capital letter ("Musk", "xAI"), or a
    word of a glossary group whose English spelling has one ("musk", 马斯克); not a month or a weekday
    (a date: "as of the January reports"). The glossary's lower-case terms are topic words ("lawsuit",
    诉讼; "leave", 退出): "What did Musk add to his lawsuit in November?" asks about the lawsuit, and was
    refused as "None of them mentions add" when "add" was its only topic word."""
    head = forms[0]
    if head.lower() in DATE_WORDS:
        return False
    return _capitalised(head) or any(_capitalised(g[0]) for g in name_groups(head))


def _capitalised(word: str) -> bool:
    return any(c.isupper() for c in word)


def coverage(topic: Sequence[Sequence[str]], found: set[str]) -> float:
    """Share of topic words of which some form has all its tokens in ``found``."""
    if not topic:
        return 0.0

    def present(term: str) -> bool:
        tokens = keyword_tokens(term)
        return bool(tokens) and all(t in found for t in tokens)

    return sum(any(present(v) for v in forms) for forms in topic) / len(topic)


def _similar(a: str, b: str) -> bool:
    return near_duplicate(set(char_tokens(a)), set(char_tokens(b)), 0.8)


def score(sentence: Sentence, topic: Sequence[Sequence[str]], kind: Kind, rank: int,
          cue_weight: float = CUE_WEIGHT, asked: set[str] = frozenset(), figure_weight: float = FIGURE_WEIGHT,
          cue: re.Pattern[str] | None = None) -> float:
    """Similarity + the share of the question's topic words present + the kind's cue + a figure of
    the relation ``asked`` (how much) + a rank tie-breaker."""
    value = sentence.score
    if topic:
        value += TERM_WEIGHT * coverage(topic, set(keyword_tokens(sentence.text)))
    if (cue or CUES[kind]).search(sentence.text):
        value += cue_weight
    if kind == "how_much" and states_asked_figure(sentence.text, asked):
        value += figure_weight
    return value + RANK_WEIGHT / max(rank, 1)


def select(
    question: str,
    standalone: str,
    queries: Sequence[str],
    kind: Kind,
    passages: Sequence[Passage],
    sentences: dict[str, list[Sentence]],
    known: Known,
    k: int = 5,
    max_items: int = MAX_ITEMS,
    margin: float = MARGIN,
    cue_weight: float = CUE_WEIGHT,
    figure_weight: float = FIGURE_WEIGHT,
    about: Sequence[Sequence[str]] = (),
    quotes: Sequence[str] = (),
) -> Evidence:
    """The evidence for ``question``: the best content sentences with their neighbours.

    ``passages`` are the retriever's candidates (more than ``k``): their sentences are
    scored, so the evidence can come from a candidate the fused ranking placed low.
    The passages returned are the ones holding evidence (at most ``k``), then the best
    fused others, ``k`` in all. ``about`` (names, each in all its spellings): only sentences naming
    one of them, or beside one that does, are evidence, when some are; so are only sentences of the outlets the
    question names, when some are. ``quotes``: phrases the question quotes.
    A why question's evidence says, in or beside it, what the question asks about (one of its topic words that
    is not a name: "leave", 退出), when two such sentences are within the margin of the best: "…974亿美元的收购
    要约…" names Musk and OpenAI but gives no reason he left.
    """
    topic = topic_words(standalone, known)
    asked = relations_asked(standalone)
    kind_cue = cue_for(kind, question if asked_name(question) else standalone)  # a follow-up's own name first
    count_of = counted(question, known)  # what this turn counts, not an earlier one
    scored: list[tuple[float, Passage, int]] = []
    best = max((s.score for sents in sentences.values() for s in sents if is_content(s.text)), default=-1.0)
    for p in passages:
        sents = sentences.get(p.chunk_id, [])
        for i, s in enumerate(sents):
            if is_content(s.text) and not _near_forgery(sents, i):
                shown = as_shown(sents, i, p.text, best, kind)
                value = score(shown, topic, kind, p.n, cue_weight, asked, figure_weight, kind_cue)
                value += QUOTE_WEIGHT if holds_phrase(shown.text, quotes) else 0.0
                scored.append((value, p, i))
    scored.sort(key=lambda x: (-x[0], x[1].n, x[2]))
    if about:  # a follow-up that names someone or something new is answered about it
        scored = [x for x in scored if mentions(about, _beside(sentences[x[1].chunk_id], x[2]))] or scored
    outlets = named_outlets(f"{question} {standalone}", [p.outlet or "" for p in passages])
    if outlets:  # "according to Jiemian", "the OKEx piece": what that outlet's articles say
        scored = [x for x in scored if x[1].outlet in outlets] or scored
    doing = [forms for forms in topic if not is_name(forms)]
    if kind == "why" and doing:  # a cause of what is asked about: said beside it
        on_it = [x for x in scored if coverage(doing, set(keyword_tokens(_beside(sentences[x[1].chunk_id], x[2])))) > 0]
        scored = on_it if len(on_it) >= 2 and on_it[0][0] >= scored[0][0] - margin else scored
    margin = margin + COMPOUND_MARGIN if compound(question) else margin  # two things asked: more evidence
    cutoff = scored[0][0] - margin if scored else 0.0
    # a how-much question's figures of the relation asked are all wanted (sources disagree): wider margin
    figure_cutoff = scored[0][0] - FIGURE_MARGIN if scored and kind == "how_much" and asked else cutoff
    subject = [forms for forms in topic if not is_name(forms) and not relation_forms(forms[0])]
    named = name_forms(topic)

    def figure_asked(text: str) -> bool:  # a how-much question's figure of the relation asked
        return kind == "how_much" and states_asked_figure(text, asked)

    within = {(p.chunk_id, i) for value, p, i in scored if value >= cutoff}
    # a follow-on that says when, how much or why completes its sentence ("也许这会在接下来的6-12个月内发生")
    cue = CUES[kind] if cue_weight and kind in ("when", "how_much", "why") else None

    def eligible(chunk_id: str, j: int) -> bool:
        return (chunk_id, j) in within or bool(cue and cue.search(sentences[chunk_id][j].text))

    items: list[EvidenceItem] = []
    taken: set[tuple[str, int]] = set()  # (chunk id, sentence index) already in an item
    for value, p, i in scored:
        if value < min(cutoff, figure_cutoff):
            break
        figure = figure_asked(sentences[p.chunk_id][i].text)
        if len(items) >= max_items and not (figure and about_asked(sentences[p.chunk_id], i, subject, named)):
            continue  # full: only a figure asked, in words of the question, may still come (``_at_most``)
        if value < cutoff and not figure:
            continue
        if p.n not in {it.n for it in items} and len({it.n for it in items}) == k:
            continue
        sents = sentences[p.chunk_id]
        first, last = unit(sents, i, p.text, lambda j: eligible(p.chunk_id, j))
        span = {(p.chunk_id, j) for j in range(first, last + 1)}
        s = joined(sents[first : last + 1], p.text)
        if span & taken or any(_similar(s.text, it.sentence.text) or s.text in it.sentence.text for it in items):
            continue
        taken |= span
        ranked = s.model_copy(update={"score": round(value, 4)})
        item = EvidenceItem(
            n=p.n, sentence=ranked,
            before=sents[first - 1] if first > 0 and not _near_forgery(sents, first - 1) else None,
            after=sents[last + 1] if last + 1 < len(sents) and not _near_forgery(sents, last + 1) else None,
        )
        cut = next((j for j, it in enumerate(items) if it.sentence.text in s.text), None)
        if cut is None:
            items.append(item)
        else:  # a passage cut off what the sentence introduces ("…回应道:"); another holds it whole
            kept = ranked.model_copy(update={"score": items[cut].sentence.score})
            items[cut] = item.model_copy(update={"sentence": kept})
    items = _at_most(items, max_items, lambda it: figure_asked(it.sentence.text))
    own = kinds(question)
    asks = follow_up_kinds(question, standalone) | {kind}  # a follow-up joined to an earlier question asks what it asks
    items = lead(items, kind, asked, count_of, kind_cue)
    overlap = term_overlap(topic, items)
    stating = [it for it in items if answers_how_much(it.sentence.text, asked, count_of)] if "how_much" in asks else []
    figure = "how_much" not in asks or any(mentions(named, window(it)) for it in stating)
    chosen = [it.sentence.text for it in sorted(items, key=lambda it: -it.sentence.score)]
    if own == {"how_much"}:  # this turn asks only how much: the sentences stating the figure answer
        items = stating or items
    passages, items = _number_by_evidence(passages, items, k)
    return Evidence(
        question=question, standalone_question=standalone, queries=list(queries), passages=passages,
        items=items, checked=chosen if len(items) < len(chosen) else [],
        relevance=round(best, 4), term_overlap=overlap, states_figure=figure, named=bool(named),
    )


def about_asked(sents: Sequence[Sentence], i: int, subject: Sequence[Sequence[str]],
                named: Sequence[Sequence[str]]) -> bool:
    """Sentence ``i`` (a figure of the relation asked) is about what is asked: it holds two of the
    question's other topic words (``holds_question_words``) or, when the question has none ("How much is
    OpenAI valued at?"), it or a sentence beside it names one of the question's names ("…Altman声称自己没有
    OpenAI的股份" before "“…变成一家价值1570亿美元的营利性…巨无霸…”")."""
    if subject:
        return holds_question_words(sents[i].text, subject)
    return bool(named) and mentions(named, _beside(sents, i))


def holds_question_words(sentence: str, subject: Sequence[Sequence[str]]) -> bool:
    """``sentence`` holds two or more of ``subject`` (the question's topic words that are neither names
    nor the relation asked): a figure of the relation asked is about what is asked ("一家价值1570亿美元的营利性…
    公司" for "…OpenAI变成了一家价值多少的营利性公司？"), not only of the same kind ("Figure宣布获得6.75亿美元融资"
    for how much OpenAI's founders raised)."""
    found = set(keyword_tokens(sentence))
    return sum(coverage([forms], found) > 0 for forms in subject) >= 2


def _at_most(items: list[EvidenceItem], n: int, keep: Callable[[EvidenceItem], bool]) -> list[EvidenceItem]:
    """The first ``n`` items, those ``keep`` says first: a how-much question's figures of the relation
    asked are chosen past the item limit, in place of the lowest others ("诉状中提到: …价值1570亿美元的营利性…"
    ranked sixth, below five sentences about the lawsuit, for "诉状说OpenAI变成了一家价值多少的营利性公司？")."""
    if len(items) <= n:
        return items
    kept = [it for it in items if keep(it)][:n]
    others = [it for it in items if not keep(it)][: n - len(kept)]
    return [it for it in items if it in kept or it in others]


def lead(items: list[EvidenceItem], kind: Kind, asked: set[str], count_of: Sequence[str] | None,
         cue: re.Pattern[str] | None = None) -> list[EvidenceItem]:
    """The items that answer first: for "when", those stating a date; for "why", those stating a cause
    (``CUES``); for "what is X", those saying what X is (``cue``); for "how much", those stating a
    figure of what is asked ("微软只占股 49%" before "尽管微软在该公司拥有大量股份", which is about the
    stake but does not say how much). The others stay, after them (on dev, dropping a when question's
    undated sentences lost four facts); ``select`` drops them only for a question that asks nothing
    but how much."""
    if kind == "how_much":
        answering = [it for it in items if answers_how_much(it.sentence.text, asked, count_of)]
    elif kind == "when":
        answering = [it for it in items if find_dates(it.sentence.text)]
    elif kind in ("why", "what_is"):  # a stated cause first (not "近日,马斯克向OpenAI发出了…收购要约" for
        # "Why did Musk step down?"); what X is first for "What is X?"
        answering = [it for it in items if (cue or CUES[kind]).search(it.sentence.text)]
    else:
        return items
    return answering + [it for it in items if it not in answering]


def name_forms(topic: Sequence[Sequence[str]]) -> list[list[str]]:
    """The topic words that name someone or something, each as written and in its glossary spellings,
    not in its dictionary senses ("Character": 为人)."""
    return [spellings(forms[0]) for forms in topic if is_name(forms)]


def mentions(named: Sequence[Sequence[str]], text: str) -> bool:
    """``text`` names one of ``named`` (any form), or ``named`` is empty. A how-much question's figure
    must be stated in, or beside, a sentence naming someone or something the question names: "How
    much money did Meta put on the table for its deal with Character.ai?" is not answered by Musk's
    974亿美元 for OpenAI."""
    return not named or coverage(named, set(keyword_tokens(text))) > 0


def window(item: EvidenceItem) -> str:
    """An evidence item's sentence with its neighbours, as one text."""
    return " ".join(s.text for s in item.sentences)


def _beside(sents: Sequence[Sentence], i: int) -> str:
    return " ".join(s.text for s in sents[max(i - 1, 0) : i + 2])


def answers_how_much(sentence: str, asked: set[str], count_of: Sequence[str] | None) -> bool:
    """``sentence`` could answer a how-much question: it states a figure of the relation ``asked``;
    or, when none is, a count of what the question counts (``count_of``: its forms); or, when
    neither is known, any amount or count."""
    if asked:
        return states_asked_figure(sentence, asked)
    if count_of:
        return states_figure(sentence) and coverage([count_of], set(keyword_tokens(sentence))) > 0  # it names what is counted
    return states_figure(sentence)


def points_back(sents: Sequence[Sentence], i: int, text: str) -> bool:
    """Sentence ``i`` opens by pointing back to the one before it, in the same paragraph."""
    return (i > 0 and bool(_POINTS_BACK.match(sents[i].text))
            and not text[sents[i - 1].end : sents[i].start].strip(" ")  # no paragraph break between
            and is_content(sents[i - 1].text) and not _near_forgery(sents, i - 1))


def said_by_before(sents: Sequence[Sentence], i: int) -> int:
    """The index of the sentence naming who said sentence ``i``'s quote, when ``i`` names the speaker only by a
    pronoun ("「…,」他说。") or is a bare quote going on from such a sentence ("「冲突在于他们都将试图用类似的产品赚钱。」"):
    the one before (across a paragraph break: "…Oren Etzioni 告诉《华尔街日报》。"). Otherwise ``i``."""
    j = i - 1 if i > 0 and _bare_quote(sents[i].text) and speaker_is_pronoun(sents[i - 1].text) else i
    if j > 0 and speaker_is_pronoun(sents[j].text) and is_content(sents[j - 1].text) and not _near_forgery(sents, j - 1):
        return j - 1
    return i


def _bare_quote(sentence: str) -> bool:
    s = sentence.strip()
    return s[:1] in "“「\"" and s.rstrip("。.").endswith(("”", "」", "\""))


def introduces(sents: Sequence[Sentence], i: int) -> bool:
    """Sentence ``i`` ends with a colon ("…他对X.ai、Twitter和特斯拉之间可能关系的看法：") and the one
    after it, what the colon introduces (often a quote in its own paragraph), is content."""
    return (i + 1 < len(sents) and sents[i].text.rstrip().endswith((":", "："))
            and is_content(sents[i + 1].text) and not _near_forgery(sents, i + 1))


SHORT_LINE = 60  # characters of a line that reads as a list item ("X.ai可以提供人才。")
LIST_LINES = 3  # list items quoted after the first


def answers_heading(sents: Sequence[Sentence], i: int, text: str) -> bool:
    """Sentence ``i`` opens a list answering a question the article asks on the line before it
    ("X.ai、Twitter和特斯拉之间的关系会是怎样的呢？" then "X.ai可以提供人才。", "Twitter可以提供数据…"): a
    short line with another after it. Not prose after a question ("第一,现在是AGI时代吗?" then a paragraph),
    nor the FT summary's "Q2: …" before its "A2: …": those answers are whole sentences on their own."""
    return (i > 0 and sents[i - 1].text.rstrip().endswith(("?", "？")) and len(sents[i - 1].text.strip()) >= 6
            and "\n" in text[sents[i - 1].end : sents[i].start] and not _near_forgery(sents, i - 1)
            and list_runs_on(sents, i, text) > 0)


ANSWER_SENTENCES = 4  # sentences of the paragraph after an article's question that answer it


def question_before(sents: Sequence[Sentence], i: int, text: str) -> int | None:
    """The index of the question the article asks on a line of its own just before the paragraph holding sentence
    ``i`` (within ``ANSWER_SENTENCES``), or None: "那为什么不在特斯拉内部开发这个新的LLM呢？" then "我认为特斯拉可能没有
    建立正确的治理机制……埃隆是特斯拉的少数股东…"; the FT summary's "Q3: What are some potential risks…?" then
    each sentence of its "A3: …" line. Such a sentence answers what that question asks."""
    j = i
    while j > 0 and i - j < ANSWER_SENTENCES:
        gap = text[sents[j - 1].end : sents[j].start]
        if sents[j - 1].text.rstrip().endswith(("?", "？")):
            line = "\n" in gap and len(sents[j - 1].text.strip()) >= 6 and not _near_forgery(sents, j - 1)
            return j - 1 if line else None
        if "\n\n" in gap.replace(" ", ""):  # a paragraph break: the question would be further up
            return None
        j -= 1
    return None


def same_kind(a: Kind, b: Kind) -> bool:
    """Two questions ask the same kind of thing: the same kind, or each "how" or "other" ("How might these partnerships
    impact…?" and "…会产生什么影响？"). "埃隆·马斯克会要求特斯拉…投资…吗？" is not answered where the user asks why."""
    return a == b or {a, b} <= {"how", "other"}


def list_runs_on(sents: Sequence[Sentence], i: int, text: str) -> int:
    """How many lines after line ``i`` continue it as a list: each short (``SHORT_LINE``) and on a line of its
    own, as ``i`` is; at most ``LIST_LINES``."""
    n = 0
    while (len(sents[i].text) <= SHORT_LINE and n < LIST_LINES and i + n + 1 < len(sents)
           and "\n" in text[sents[i + n].end : sents[i + n + 1].start] and len(sents[i + n + 1].text) <= SHORT_LINE
           and is_content(sents[i + n + 1].text) and not _near_forgery(sents, i + n + 1)):
        n += 1
    return n


def as_shown(sents: Sequence[Sentence], i: int, text: str, ceiling: float = 1.0, kind: Kind | None = None) -> Sentence:
    """Sentence ``i`` as it is scored: with what it introduces when it ends with a colon (the two are
    one unit, ``unit``), at the better similarity of the two. "然而,Altman不仅拒绝了提议,还以讽刺的方式回应道:"
    is judged with the reply it introduces; the first line answering a question the article asks, with
    the question and the list it opens (``answers_heading``), at the best similarity of them. A sentence of
    the paragraph answering a question the article asks of the same ``kind`` as the user's (``question_before``,
    ``same_kind``) is judged with that question's words and at its similarity, up to ``ceiling`` (the best any
    sentence has on its own: the FT summary's "Q2: …" matches its English paraphrase far better than any
    sentence, and its answer alone then crowded out the Chinese "答案2" that says the rest)."""
    if answers_heading(sents, i, text):
        parts = sents[i - 1 : i + list_runs_on(sents, i, text) + 1]
        return joined(parts, text).model_copy(update={"score": max(x.score for x in parts)})
    asked = question_before(sents, i, text)
    if asked is not None and kind is not None and same_kind(question_kind(sents[asked].text), kind):
        question = sents[asked]  # prose answering the article's own question: judged with it
        return sents[i].model_copy(update={"text": f"{question.text}\n{sents[i].text}",
                                           "score": max(sents[i].score, min(question.score, ceiling))})
    if not introduces(sents, i):
        return sents[i]
    both = joined(sents[i : i + 2], text)
    return both.model_copy(update={"score": max(sents[i].score, sents[i + 1].score)})


def unit(sents: Sequence[Sentence], i: int, text: str, eligible: Callable[[int], bool]) -> tuple[int, int]:
    """The first and last index of the sentences quoted for sentence ``i``: with the one before
    when ``i`` points back to it, with those a quotation it closes was opened in (``quote_opened_before``),
    with the one after when ``i`` introduces it with a colon, or when it points back and is ``eligible``,
    and with those a quotation it opens runs on into (``quote_runs_on``); a line answering the article's own
    question, with the question and the list it opens (``answers_heading``)."""
    texts = [s.text for s in sents]
    if answers_heading(sents, i, text):  # the article's question, its answer and the list that answer opens
        return i - 1, i + list_runs_on(sents, i, text)
    first = min(i - 1 if points_back(sents, i, text) else i, said_by_before(sents, i))
    opened = i - quote_opened_before(texts, i)  # a quote is not cut off mid-way
    if opened < first and not any(_near_forgery(sents, j) for j in range(opened, first)):
        first = opened
    follows = i + 1 < len(sents) and points_back(sents, i + 1, text) and eligible(i + 1)
    last = i + 1 if introduces(sents, i) or follows else i
    on = quote_runs_on(texts, last)
    if on and all(not _near_forgery(sents, j) for j in range(last + 1, last + on + 1)):
        last += on
    while first > 0 and trails_off(sents, first - 1, text):  # "……" inside a line ends no sentence
        first -= 1
    while last + 1 < len(sents) and trails_off(sents, last, text):
        last += 1
    return first, last


def trails_off(sents: Sequence[Sentence], i: int, text: str) -> bool:
    """Sentence ``i`` ends with an ellipsis and the same line goes on with content: "我认为特斯拉可能没有建立正确的
    治理机制……埃隆是特斯拉的少数股东，…" is one sentence the splitter cut at "……"."""
    return (i + 1 < len(sents) and sents[i].text.rstrip().endswith(("…", "..."))
            and "\n" not in text[sents[i].end : sents[i + 1].start]
            and is_content(sents[i + 1].text) and not _near_forgery(sents, i + 1))


def joined(parts: Sequence[Sentence], text: str) -> Sentence:
    """One sentence for consecutive ``parts`` of a passage: its verbatim text and joint span, the
    parts' mean vector, the language of the first."""
    if len(parts) == 1:
        return parts[0]
    start, end = parts[0].start, parts[-1].end
    vectors = [x.embedding for x in parts if x.embedding]
    mean = [sum(v) / len(vectors) for v in zip(*vectors)] if len(vectors) == len(parts) else []
    return parts[0].model_copy(update={"text": text[start:end], "start": start, "end": end, "embedding": mean})


def _near_forgery(sents: Sequence[Sentence], i: int) -> bool:
    """Sentence ``i`` tries to forge the prompt frame, or follows one that does (what an injection
    puts after a forged delimiter or header is its payload): neither is evidence."""
    return any(forged(x.text) for x in sents[max(i - 1, 0) : i + 1])


def term_overlap(topic: Sequence[Sequence[str]], items: Sequence[EvidenceItem]) -> float:
    """Share of the question's topic words that the evidence (with its neighbours) contains.

    Names are left out when the question has other topic words: a question about
    a person in the articles but on a fact they do not hold ("What salary does
    Altman earn?") matches the name and nothing else, and must score low.
    """
    found: set[str] = set()
    for it in items:
        found |= set(keyword_tokens(" ".join(s.text for s in it.sentences)))
    asked = [forms for forms in topic if not is_name(forms)] or list(topic)
    return round(coverage(asked, found), 4)


def _number_by_evidence(
    passages: Sequence[Passage], items: Sequence[EvidenceItem], k: int
) -> tuple[list[Passage], list[EvidenceItem]]:
    """The ``k`` passages to show, renumbered so the ones holding evidence come first, in evidence
    order, then the best fused others (copies, not edits)."""
    order = list(dict.fromkeys(it.n for it in items))
    order += [p.n for p in passages if p.n not in set(order)][: max(k - len(order), 0)]
    new_n = {old: i for i, old in enumerate(order, start=1)}
    by_n = {p.n: p for p in passages}
    renumbered = [by_n[old].model_copy(update={"n": new_n[old]}) for old in order]
    return renumbered, [it.model_copy(update={"n": new_n[it.n]}) for it in items]
