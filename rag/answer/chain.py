"""The question-answering pipeline: condense → retrieve → answer → cite, streaming.

LCEL pipelines (prompt | model) do the LLM work; the offline default answers
extractively. Either way the text goes through the same citation check, and
one ``Answer`` comes out. ``stream`` yields text as it is produced and the
final ``Answer`` last; ``ask`` returns only the ``Answer``. When retrieval finds
nothing relevant the chain refuses in the question's language without calling
the model. Model failures become ``ModelError`` with the fix in the message
and no secret in it; a stream that breaks after some text returns what came,
marked incomplete. Settings are not read here.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser

from rag.answer import news
from rag.answer.cite import build_citations, item_citations
from rag.dates import source_label
from rag.errors import InputError, ModelError
from rag.answer.evidence import CUE_WEIGHT, select
from rag.answer.extractive import compose
from rag.answer.faithful import faithful
from rag.retrieval.filters import Filters
from rag.answer.framing import render_evidence, sanitize
from rag.models import Answer, Evidence, EvidenceItem, Language, Sentence, Usage
from rag.answer.prompts import (
    ANSWER_PROMPT,
    CITE_REMINDER,
    CITE_REMINDER_HANT,
    CONDENSE_PROMPT,
    FALLBACK_NOTICE,
    LANGUAGE_NAME,
    NO_ANSWER,
    RESTATE_PROMPT,
    TRANSLATE_PROMPT,
    TRANSLATE_TARGET,
)
from rag.retrieval.question import kind, script, to_script, to_simplified
from rag.retrieval.recency import rerank_by_recency
from rag.retrieval.retrieve import Retriever
from rag.text import detect_language, keyword_tokens
from rag.retrieval.translate import content_words
from rag.retrieval.translate import translate as dictionary_translate

MAX_QUESTION_CHARS = 10_000
MAX_RESTATED = 4  # evidence sentences restated, one call each (the embedded server runs 4 slots)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 (but tab and newline), DEL, C1
_FOLLOW_UP = re.compile(
    r"\b(he|she|it|they|him|her|his|hers|its|their|them|this|that|these|those|then|what about|and why)\b"
    r"|他|她|它|其|该|此|这|那|后来|然后|接着",
    re.I,
)
History = Sequence[dict[str, str]]


def check_question(question: str) -> str:
    """Clean a question; reject empty, wordless or oversized ones.

    Control characters become spaces; invisible format characters (BOM, zero-width,
    bidi marks) and lone surrogates (what argv/stdin make of bytes that are not UTF-8)
    are dropped.
    """
    if not isinstance(question, str):
        raise InputError("the question must be text")
    question = "".join(
        ch for ch in _CONTROL.sub(" ", question) if unicodedata.category(ch) not in ("Cf", "Cs")
    ).strip()
    if not question:
        raise InputError("the question is empty: type a question about the articles")
    if not any(ch.isalnum() for ch in question):
        raise InputError("the question has no words (only symbols or emoji): type a question about the articles")
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(
            f"the question is {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}: shorten it"
        )
    return question


def _messages(history: History) -> list[BaseMessage]:
    return [
        HumanMessage(t["content"]) if t.get("role") == "user" else AIMessage(t.get("content", ""))
        for t in history
        if t.get("content")
    ]


def model_error(exc: BaseException, model: str, secrets: Sequence[str | None] = ()) -> ModelError:
    """A one-line, secret-free message for any failure of a model call."""
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and len(chain) < 5:
        chain.append(e)
        e = e.__cause__ or e.__context__
    names = {type(x).__name__ for x in chain for _ in [0]} | {
        b.__name__ for x in chain for b in type(x).__mro__
    }
    status = next((getattr(x, "status_code", None) for x in chain if getattr(x, "status_code", None)), None)
    if "APITimeoutError" in names or "TimeoutException" in names or "ReadTimeout" in names:
        msg = f"the model {model} did not answer in time; try again, or raise RAG_TIMEOUT"
    elif "AuthenticationError" in names or status == 401:
        msg = f"the model {model} rejected the API key; check OPENAI_API_KEY in .env"
    elif "RateLimitError" in names or status == 429:
        msg = f"the model {model} is rate-limited (HTTP 429); wait a moment and try again"
    elif status == 404:
        msg = (f"the model {model} was not found (HTTP 404){_detail(chain)}; check the model name in "
               "RAG_CHAT_MODEL and OPENAI_BASE_URL")
    elif status and 400 <= status < 500:
        msg = (f"the model {model} refused the request (HTTP {status}){_detail(chain)}; retrying will not help: "
               "check RAG_CHAT_MODEL, OPENAI_BASE_URL and RAG_MAX_TOKENS")
    elif status:
        msg = f"the model {model} failed with HTTP {status}; try again, or check the model server"
    elif "APIConnectionError" in names or "ConnectError" in names or "ModelConnectionError" in names:
        msg = f"cannot reach the model {model}; check OPENAI_BASE_URL / the network, or use RAG_CHAT_MODEL=extractive"
    elif "JSONDecodeError" in names or any("No generation" in str(x) for x in chain):
        msg = (f"the model {model} sent a malformed or empty reply; check that OPENAI_BASE_URL points at an "
               "OpenAI-compatible server, or try again")
    else:
        msg = f"the model {model} failed ({type(exc).__name__}); try again or use RAG_CHAT_MODEL=extractive"
    for secret in secrets:
        if secret:
            msg = msg.replace(secret, "***")
    return ModelError(msg)


def _detail(chain: Sequence[BaseException], limit: int = 160) -> str:
    """The server's own one-line reason for a refused request (``error.message`` of the body), if any."""
    for x in chain:
        body = getattr(x, "body", None)
        text = body.get("message") if isinstance(body, dict) else None
        if isinstance(text, str) and text.strip():
            text = " ".join(text.split())
            return f": {text[:limit]}{'…' if len(text) > limit else ''}"
    return ""


def _usage(message: Any) -> Usage | None:
    meta = getattr(message, "usage_metadata", None)
    if not meta:
        return None
    return Usage(
        input_tokens=meta.get("input_tokens", 0),
        output_tokens=meta.get("output_tokens", 0),
        total_tokens=meta.get("total_tokens", 0),
    )


@dataclass
class _Gathered:
    evidence: Evidence
    sentences: dict[str, list[Sentence]]  # every candidate's scored sentences (for the news layer)
    kind: str
    timings: dict[str, float]


@dataclass(frozen=True)
class RefusalPolicy:
    """The one place the refusal decision is made (thresholds chosen on the dev split).

    Refuse when there is no evidence, when its best mean-centred similarity is
    below the question language's threshold, or when it covers too little of the
    question's topic words (across languages). A model answering with the fixed
    "not covered" phrase is the last word when an LLM answers (``_generate``).
    """

    min_relevance: dict[str, float]
    min_overlap: float = 0.0

    def refuse(self, evidence: Evidence, language: Language) -> bool:
        return self.refuse_on(bool(evidence.items), evidence.relevance, evidence.term_overlap, language)

    def refuse_on(self, has_evidence: bool, relevance: float, overlap: float, language: str) -> bool:
        if not has_evidence:
            return True
        return relevance < self.min_relevance.get(language, -1.0) or overlap < self.min_overlap


class RagChain:
    """Answers questions over one retriever with one answerer; safe to share across threads."""

    def __init__(
        self,
        retriever: Retriever,
        llm: BaseChatModel | None,
        *,
        model_name: str,
        embedding_model: str,
        min_relevance: dict[str, float],
        min_overlap: float = 0.0,
        translation: str = "dictionary",
        rerank_depth: int = 25,
        followup: str = "previous",
        generation: str = "synthesis",
        evidence_cues: bool = True,
        secrets: Sequence[str | None] = (),
    ) -> None:
        self.retriever = retriever
        self.llm = llm
        self.model_name = model_name
        self.embedding_model = embedding_model
        self.policy = RefusalPolicy(min_relevance, min_overlap)
        self.translation = translation
        self.rerank_depth = rerank_depth  # candidates whose sentences are scored for evidence
        self.followup = followup
        self.generation = generation
        self.restate_chain = (RESTATE_PROMPT | llm) if llm is not None else None
        self.evidence_cues = evidence_cues
        self.secrets = tuple(secrets)
        self.answer_chain = (ANSWER_PROMPT | llm) if llm is not None else None
        self.condense_chain = (CONDENSE_PROMPT | llm | StrOutputParser()) if llm is not None else None
        self.translate_chain = (TRANSLATE_PROMPT | llm | StrOutputParser()) if llm is not None else None
        self._translations: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def extractive(self) -> bool:
        return self.llm is None

    # ---- steps -----------------------------------------------------------------------

    def condense(self, question: str, history: History) -> str:
        """A standalone question for retrieval."""
        last_user = next((t["content"] for t in reversed(history) if t.get("role") == "user"), None)
        if not last_user:
            return question
        if self.condense_chain is not None:
            try:
                rewritten = self.condense_chain.invoke({"history": _messages(history[-4:]), "question": question})
            except Exception as exc:
                raise model_error(exc, self.model_name, self.secrets) from None
            return check_question(rewritten.strip().splitlines()[0] if rewritten.strip() else question)
        if self.followup == "previous":
            return f"{last_user} {question}" if _leans_on_history(question) else question
        return carry_topic(question, to_simplified(last_user))

    def translate(self, question: str) -> str:
        """The question in the other language, for cross-lingual retrieval ('' when not translated)."""
        mode = self.translation
        if mode == "off":
            return ""
        if mode == "llm" and self.translate_chain is not None:
            with self._lock:
                cached = self._translations.get(question)
            if cached is not None:
                return cached
            try:
                target = TRANSLATE_TARGET[detect_language(question)]
                text = self.translate_chain.invoke({"question": question, "target": target})
            except Exception as exc:
                raise model_error(exc, self.model_name, self.secrets) from None
            text = " ".join(text.strip().split())[:400]
            with self._lock:
                self._translations[question] = text
            return text
        return dictionary_translate(question, self.retriever.keywords.knows)

    def gather(
        self, question: str, history: History = (), k: int | None = None, filters: Filters | None = None
    ) -> tuple[Evidence, dict[str, float]]:
        """Condense, translate, retrieve and select: the evidence, before any answer text."""
        found = self._gather(question, history, k, filters)
        return found.evidence, found.timings

    def _gather(self, question: str, history: History, k: int | None, filters: Filters | None) -> _Gathered:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        standalone = self.condense(question, history)
        timings["condense"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        translation = self.translate(standalone)
        timings["translate"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        k = k or self.retriever.k
        depth = max(k, self.rerank_depth)
        retrieval = self.retriever.retrieve(standalone, depth, [translation] if translation else [], filters)
        asked = kind(standalone)
        if asked == "latest":  # news: among relevant passages, newer articles first
            retrieval.passages = rerank_by_recency(retrieval.passages)
        sentences = self.retriever.sentences(retrieval) if retrieval.passages else {}
        evidence = select(question, standalone, retrieval.queries, asked, retrieval.passages,
                          sentences, self.retriever.keywords.knows, k=k,
                          cue_weight=CUE_WEIGHT if self.evidence_cues else 0.0)
        timings["retrieve"] = (time.perf_counter() - t0) * 1000
        timings.update({f"retrieve.{key}": v for key, v in retrieval.timings_ms.items()})
        return _Gathered(evidence, sentences, asked, timings)

    # ---- the pipeline ----------------------------------------------------------------

    def stream(
        self, question: str, history: History = (), k: int | None = None, filters: Filters | None = None
    ) -> Iterator[Evidence | str | Answer]:
        """Yield the ``Evidence`` first, then answer text as it comes, then the final ``Answer``;
        ``filters`` (outlet, dates, language) narrow retrieval."""
        t_start = time.perf_counter()
        question = check_question(question)
        user_script = script(question)
        question_s = to_simplified(question) if user_script == "Hant" else question
        language: Language = detect_language(question)
        found = self._gather(question_s, history, k, filters)
        evidence, timings = found.evidence, found.timings
        yield evidence
        answer = Answer(
            question=question, answer="", refused=False, language=language, passages=evidence.passages,
            model=self.model_name, embedding_model=self.embedding_model,
            standalone_question=evidence.standalone_question, relevance=evidence.relevance,
        )
        t0 = time.perf_counter()
        if news.no_match(answer, filters):  # filters left no passage: say so, not the generic refusal
            answer.answer = to_script(answer.answer, user_script)
            yield answer.answer
        elif self.policy.refuse(evidence, detect_language(evidence.standalone_question)):
            answer.refused = True
            answer.answer = to_script(NO_ANSWER[language], user_script)
            yield answer.answer
        elif self.answer_chain is None:
            labels = {p.n: source_label(p, language) for p in evidence.passages}
            answer.answer = to_script(compose(evidence.items, language, labels), user_script)
            answer.citations = item_citations(evidence)
            answer.notice = "extractive"
            yield answer.answer
        else:
            write = self._restate if self.generation == "restate" else self._generate
            for piece in write(answer, question, history, evidence):
                yield to_script(piece, user_script)
            answer.answer = to_script(answer.answer, user_script)
        plain = {cid: [x.model_dump() for x in xs] for cid, xs in found.sentences.items()}
        extra = news.finish(answer, evidence.standalone_question, evidence.passages, plain,
                            found.kind if found.kind in ("latest", "when") else "other")
        if extra:  # news: disagreeing sources, the date a "latest" answer is as of, "when" dates
            yield to_script(extra, user_script)
        timings["generate"] = (time.perf_counter() - t0) * 1000
        timings["total"] = (time.perf_counter() - t_start) * 1000
        answer.timings_ms = timings
        yield answer

    def _generate(self, answer: Answer, question: str, history: History, evidence: Evidence) -> Iterator[str]:
        assert self.answer_chain is not None
        language = answer.language
        inputs = {
            "evidence": render_evidence(evidence.passages, evidence.items, language),
            "question": question,
            "history": _messages(history[-4:]),
            "no_answer": NO_ANSWER[language],
            "cite_reminder": CITE_REMINDER_HANT if script(question) == "Hant" else CITE_REMINDER[language],
        }
        parts: list[str] = []
        final: Any = None
        try:
            for chunk in self.answer_chain.stream(inputs):
                final = chunk if final is None else final + chunk
                text = chunk.content if isinstance(chunk.content, str) else ""
                if text:
                    parts.append(text)
                    yield text
        except Exception as exc:
            self._broke_off(answer, exc, bool(parts))
        meta = getattr(final, "response_metadata", None) or {}
        reason = next((meta[k] for k in ("finish_reason", "stop_reason", "done_reason") if meta.get(k)), None)
        if parts and meta and not answer.incomplete and reason in (None, "length", "max_tokens"):
            answer.incomplete = True  # the stream ended without "stop": the server died or the length ran out
            answer.notice = (f"incomplete: the model {self.model_name} stopped before the end of its answer"
                             f"{' (length limit)' if reason else ''}; try again")
        answer.usage = _usage(final)
        raw = drop_repeated_lines("".join(parts).strip())
        if not raw or any(p in raw for p in NO_ANSWER.values()):
            if not _has_marker(raw):
                answer.refused = True
                answer.answer = NO_ANSWER[language]
                return
        cited = build_citations(raw, evidence, embed=self.retriever.index.embeddings.embed_documents,
                                centre=self.retriever.centre)
        answer.answer, answer.citations, answer.unsupported = cited.text, cited.citations, cited.unsupported
        if not cited.citations and not cited.unsupported:  # no marker at all: show the evidence, and say so
            answer.citations = item_citations(evidence)
            answer.notice = (answer.notice + "; " if answer.notice else "") + FALLBACK_NOTICE[language]

    def _broke_off(self, answer: Answer, exc: Exception, had_text: bool) -> None:
        """A model failure: a one-line ``ModelError`` if nothing came yet, else the answer so far, marked incomplete."""
        error = model_error(exc, self.model_name, self.secrets)
        if not had_text:
            raise error from None
        answer.incomplete = True
        answer.notice = f"incomplete: {error}"

    def _restate(self, answer: Answer, question: str, history: History, evidence: Evidence) -> Iterator[str]:
        """Evidence by evidence: each sentence restated in the question's language by its own short call.

        The calls run side by side (the server's parallel slots batch them); the first
        streams, the rest are shown as they finish, in evidence order. Each bullet ends
        with its passage's marker and goes through the same support check as any answer.
        """
        assert self.restate_chain is not None
        language = answer.language
        target = "Hant" if script(question) == "Hant" else language
        by_n = {p.n: p for p in evidence.passages}
        items = evidence.items[:MAX_RESTATED]

        def inputs(item: EvidenceItem) -> dict[str, str]:
            return {"question": question, "sentence": sanitize(item.sentence.text),
                    "source": sanitize(source_label(by_n[item.n], language)), "language_name": LANGUAGE_NAME[target]}

        texts: list[str] = []  # each item's restatement, or its own sentence when the check failed
        replies: list[Any] = []  # each call's whole message (usage, finish reason)
        pool = ThreadPoolExecutor(max_workers=max(len(items) - 1, 1))
        try:
            later = [pool.submit(self.restate_chain.invoke, inputs(it)) for it in items[1:]]
            for i, item in enumerate(items):
                head = "- " if i == 0 else "\n- "  # sent with the first generated text, so a reader's
                if i == 0:                          # first token is the model's, not the bullet's
                    reply: Any = None
                    for chunk in self.restate_chain.stream(inputs(item)):
                        reply = chunk if reply is None else reply + chunk
                        if isinstance(chunk.content, str) and chunk.content:
                            yield head + chunk.content.replace("\n", " ")
                            head = ""
                else:
                    reply = later[i - 1].result()
                replies.append(reply)
                text = " ".join(str(getattr(reply, "content", "") or "").split())
                if not text or not faithful(text, item.sentence.text):
                    text = f"“{item.sentence.text}”"  # a figure or a name did not survive: quote the source
                    yield head + text if (i > 0 or head) else ""
                elif i > 0:
                    yield head + text
                texts.append(text)
                yield f" [{item.n}]"
        except Exception as exc:
            self._broke_off(answer, exc, bool(texts))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        answer.usage = _total_usage(replies)
        if any(_finish_reason(r) in ("length", "max_tokens") for r in replies) and not answer.incomplete:
            answer.incomplete = True
            answer.notice = f"incomplete: the model {self.model_name} reached its length limit; try again"
        composed = "\n".join(f"- {t} [{it.n}]" for t, it in zip(texts, items))
        cited = build_citations(composed, evidence, embed=self.retriever.index.embeddings.embed_documents,
                                centre=self.retriever.centre)
        answer.answer, answer.citations, answer.unsupported = cited.text, cited.citations, cited.unsupported
        if not cited.citations:
            answer.citations = item_citations(evidence)

    def ask(
        self, question: str, history: History = (), k: int | None = None, filters: Filters | None = None
    ) -> Answer:
        result: Answer | None = None
        for item in self.stream(question, history, k, filters):
            if isinstance(item, Answer):
                result = item
        assert result is not None
        return result


def _finish_reason(message: Any) -> str | None:
    meta = getattr(message, "response_metadata", None) or {}
    return next((meta[k] for k in ("finish_reason", "stop_reason", "done_reason") if meta.get(k)), None)


def _total_usage(messages: Sequence[Any]) -> Usage | None:
    parts = [u for u in (_usage(m) for m in messages) if u is not None]
    if not parts:
        return None
    return Usage(input_tokens=sum(u.input_tokens for u in parts), output_tokens=sum(u.output_tokens for u in parts),
                 total_tokens=sum(u.total_tokens for u in parts))


def drop_repeated_lines(text: str) -> str:
    """A small model at temperature 0 can loop on one bullet: keep the first of identical lines."""
    seen: set[str] = set()
    out = []
    for line in text.splitlines():
        key = " ".join(line.split())
        if key and key in seen:
            continue
        seen.add(key)
        out.append(line)
    return "\n".join(out)


def _leans_on_history(question: str) -> bool:
    return bool(_FOLLOW_UP.search(question)) or len(keyword_tokens(question)) <= 3


def carry_topic(question: str, previous: str) -> str:
    """Offline follow-up: the question, plus the earlier question's names and topic words it lacks.

    A follow-up that leans on the conversation ("How did he respond?", "他怎么回应？")
    keeps its own words first, so retrieval looks for what is asked now, and borrows
    only the earlier question's topic terms (names from the glossary, capitalised
    words, content words), not its question words.
    """
    if not _leans_on_history(question):
        return question
    own = set(keyword_tokens(question))
    words = re.findall(r"[A-Za-z][A-Za-z0-9.-]{2,}|[\u4e00-\u9fff]{2,}", previous)
    topic = [w for w in words if keyword_tokens(w) and not set(keyword_tokens(w)) <= own
             and (detect_language(w) == "zh" or w in content_words(w))]
    return f"{question} {' '.join(dict.fromkeys(topic))}".strip()


def _has_marker(text: str) -> bool:
    return bool(re.search(r"[\[【]\s*\d", text))
