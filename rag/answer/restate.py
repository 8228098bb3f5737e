"""Restating: each evidence sentence given in the question's language, one short call per translation.

The small embedded model translates faithfully but synthesises poorly, so for it the
answer is a list: one bullet per evidence sentence (at most ``MAX_RESTATED``), each
ending with its passage's marker. A sentence already in the question's language is
shown as the article writes it, with no call: restated, the 1.5B model dropped the
clause that answers ("为了避免反垄断审查的麻烦,微软只占股 49%" became "微软只占股49%") or
changed who acts ("特斯拉退出OpenAI董事会"). A sentence in the other language is
translated whole, with its amounts and names given in English (``restate_inputs``).
The first call streams alone until its first token (a reader's first word waits for one
prompt, not four); then the others start, side by side in the server's parallel slots,
and are shown as they finish, in evidence order. A translation whose figures or names
do not match its source (``rag.answer.faithful``), or that matched only once an invented aside
was cut out, is asked for once more, with a second wording of the prompt and its quoted idioms
in English (``idioms_spelled``); a try faithful as written is shown before a repaired one; a list unit that fails
twice is translated line by line (``_by_line``); and when all fail the quoted sentence is shown.
A sentence translated before in this process (``rag.answer.memo``) is shown as it was then, with no call.
Every bullet goes through the same support check as any answer. What it leaves out:
choosing the evidence, and the prompt's wording.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from langchain_core.runnables import Runnable

from rag.answer.cite import item_citations
from rag.answer.faithful import repaired
from rag.answer.framing import sanitize
from rag.answer.glosses import glossed, idioms_spelled, unecho
from rag.answer.memo import Memo
from rag.answer.prompts import LANGUAGE_NAME
from rag.answer.replies import Writer, finish_reason, total_usage
from rag.dates import source_label
from rag.models import Answer, Evidence
from rag.retrieval.question import script
from rag.text import detect_language, one_line

MAX_RESTATED = 5  # evidence sentences restated, one call each (4 server slots: the fifth starts when one is free)
# What opens a list item or a Q&A line: "4、", "答案2：", "Answer 2:" (the reader needs the sentence, not its label).
_LABEL = re.compile(r"^\s*(?:(?:\d{1,2}|[一二三四五六七八九十]{1,2})\s*[、.．)）]|(?:答案|回答|Answer|A)\s*\d{1,2}\s*[:：])\s*",
                    re.I)


def restate_inputs(question: str, sentence: str, source: str, target: str) -> dict[str, str]:
    """The restatement prompt's inputs for one sentence, in the reader's ``target`` ('en', 'zh', 'Hant').

    A sentence in the other language is translated, and a Chinese one going into English
    has its amounts and names in English already (``glossed``); a list item's "4、" or a Q&A line's "答案2：" is dropped.
    """
    text = _LABEL.sub("", sentence)
    translate = detect_language(text) != ("en" if target == "en" else "zh")
    if translate and target == "en":
        text = glossed(text)
    return {"question": question, "sentence": sanitize(text), "source": sanitize(source),
            "language_name": LANGUAGE_NAME[target], "translate": "1" if translate else ""}


def reply_text(reply: Any) -> str:
    """A restatement reply as one line of text, without copied glosses."""
    return unecho(one_line(str(getattr(reply, "content", reply) or "")))


def _checked(restated: str, source: str) -> tuple[str, bool] | None:
    """``restated`` as it may be shown, and whether it had to be repaired (an invented aside or year
    cut out), or None when it fails the figures-and-names check (``rag.answer.faithful``)."""
    shown = repaired(restated, source)
    return None if shown is None else (shown, shown != restated)


def _preferred(first: tuple[str, bool] | None, second: tuple[str, bool] | None) -> tuple[str, bool] | None:
    """The translation to show of two tries: one faithful as written wins over a repaired one, the first
    try over the second when both are alike. A model that invented an aside ("Andrej Karpathy, a former
    Google employee") often got the rest wrong too ("Tesla has been accused of stealing Andrej Karpathy")."""
    if first is None or (second is not None and first[1] and not second[1]):
        return second
    return first


def _by_line(chain: Runnable, question: str, source: str, target: str, unit: str, config: Any,
             replies: list[Any]) -> tuple[str, bool] | None:
    """A list unit (a question the article asks and the short lines answering it) translated line by line,
    side by side, when the whole of it failed the check: the 1.5B model left one word of five lines in
    Chinese ("the priority使用权"). None unless every line passes; the calls' replies join ``replies``."""
    lines = [line for line in unit.splitlines() if line.strip()]
    inputs = [restate_inputs(question, line, source, target) for line in lines]
    asked = [i for i, p in enumerate(inputs) if p["translate"]]
    outs = chain.batch([inputs[i] for i in asked], config) if asked else []
    replies.extend(outs)
    done = dict(zip(asked, outs))
    checked = [_checked(reply_text(done[i]), line) if i in done else (one_line(_LABEL.sub("", line)), False)
               for i, line in enumerate(lines)]
    passed = [c for c in checked if c is not None]
    if len(passed) < len(checked):
        return None
    return " ".join(text for text, _ in passed), any(fixed for _, fixed in passed)


def restate(chain: Runnable, writer: Writer, answer: Answer, question: str, evidence: Evidence,
            earlier: Sequence[Any] = (), memo: Memo | None = None) -> Iterator[str]:
    """Stream the bullets; fill ``answer`` (text, citations, usage with the ``earlier`` calls', incomplete).
    A sentence translated before (``memo``) is shown as it was then, with no call."""
    language = answer.language
    target = "Hant" if script(question) == "Hant" else language
    by_n = {p.n: p for p in evidence.passages}
    items = evidence.items[:MAX_RESTATED]

    prompts = [restate_inputs(question, it.sentence.text, source_label(by_n[it.n], language), target) for it in items]
    keys = [(p["sentence"], target) for p in prompts]  # the source's label is no part of the translation
    known = [memo.get(key) if memo is not None and p["translate"] else None for key, p in zip(keys, prompts)]
    texts: list[str] = []  # each item's restatement, or its own sentence when the check failed
    replies: list[Any] = []  # each call's whole message (usage, finish reason)
    later: list[Future] = []
    pool = ThreadPoolExecutor(max_workers=max(len(items) - 1, 1))

    def start_the_rest() -> None:
        if not later:
            later.extend(pool.submit(chain.invoke, p, writer.config) if p["translate"] and had is None else None
                         for p, had in zip(prompts[1:], known[1:]))

    try:
        for i, item in enumerate(items):
            head = "- " if i == 0 else "\n- "  # sent with the first generated text, so a reader's
            own = one_line(_LABEL.sub("", item.sentence.text))  # first token is the model's, not the bullet's
            shown = own if not prompts[i]["translate"] else known[i]  # in the reader's language, or translated before
            if shown is not None:
                start_the_rest()
                texts.append(shown)
                yield head + shown + f" [{item.n}]"
                continue
            if i == 0:
                reply: Any = None
                for chunk in chain.stream(prompts[0], writer.config):
                    reply = chunk if reply is None else reply + chunk
                    if isinstance(chunk.content, str) and chunk.content:
                        start_the_rest()
                        yield head + chunk.content.replace("\n", " ")
                        head = ""
                start_the_rest()
            else:
                reply = later[i - 1].result()
            replies.append(reply)
            text = _checked(reply_text(reply), item.sentence.text)
            if text is None or text[1]:  # one more try, worded differently: the small model fails on different sentences
                again = {**prompts[i], "sentence": idioms_spelled(prompts[i]["sentence"]), "retry": "1"}
                reply = chain.invoke(again, writer.config)
                replies.append(reply)
                text = _preferred(text, _checked(reply_text(reply), item.sentence.text))
            if text is None and "\n" in item.sentence.text.strip():  # a list: each line on its own
                text = _by_line(chain, question, source_label(by_n[item.n], language), target, item.sentence.text,
                                writer.config, replies)
            text = text[0] if text else ""
            if not text:
                text = f"“{item.sentence.text}”"  # a figure or a name did not survive: quote the source
                yield head + text if (i > 0 or head) else ""
            elif i > 0:
                yield head + text
            texts.append(text)
            if memo is not None:
                memo.put(keys[i], text)
            yield f" [{item.n}]"
    except Exception as exc:
        writer.broke_off(answer, exc, bool(texts))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    answer.usage = total_usage([*earlier, *replies])
    if any(finish_reason(r) in ("length", "max_tokens") for r in replies) and not answer.incomplete:
        answer.incomplete = True
        answer.notice = f"incomplete: the model {writer.model} reached its length limit; try again"
    composed = "\n".join(f"- {t} [{it.n}]" for t, it in zip(texts, items))
    cited = writer.cite(composed, evidence)
    answer.answer, answer.citations, answer.unsupported = cited.text, cited.citations, cited.unsupported
    if not cited.citations:
        answer.citations = item_citations(evidence)
