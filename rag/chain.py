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
import time
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser

from rag import news
from rag.cite import build_citations, format_context
from rag.dates import source_label
from rag.errors import InputError, ModelError
from rag.extractive import Pick, compose, select
from rag.filters import Filters
from rag.models import Answer, Citation, Language, Passage, Usage
from rag.prompts import ANSWER_PROMPT, CITE_REMINDER, CONDENSE_PROMPT, FALLBACK_NOTICE, LANGUAGE_NAME, NO_ANSWER
from rag.recency import question_kind, rerank_by_recency
from rag.retrieve import Retriever
from rag.text import detect_language, keyword_tokens

MAX_QUESTION_CHARS = 10_000
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
        secrets: Sequence[str | None] = (),
    ) -> None:
        self.retriever = retriever
        self.llm = llm
        self.model_name = model_name
        self.embedding_model = embedding_model
        self.min_relevance = min_relevance
        self.secrets = tuple(secrets)
        self.answer_chain = (ANSWER_PROMPT | llm) if llm is not None else None
        self.condense_chain = (CONDENSE_PROMPT | llm | StrOutputParser()) if llm is not None else None

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
                rewritten = self.condense_chain.invoke({"history": _messages(history), "question": question})
            except Exception as exc:
                raise model_error(exc, self.model_name, self.secrets) from None
            return check_question(rewritten.strip().splitlines()[0] if rewritten.strip() else question)
        # Offline: carry the earlier question's topic when this one leans on it.
        if _FOLLOW_UP.search(question) or len(keyword_tokens(question)) <= 3:
            return f"{last_user} {question}"
        return question

    def _extractive_citations(self, picks: Sequence[Pick], passages: Sequence[Passage]) -> list[Citation]:
        by_n = {p.n: p for p in passages}
        out: list[Citation] = []
        for pick in picks:
            if any(c.n == pick.n for c in out):
                continue
            out.append(by_n[pick.n].cite(pick.text, pick.span))
        return out

    # ---- the pipeline ----------------------------------------------------------------

    def stream(
        self, question: str, history: History = (), k: int | None = None, filters: Filters | None = None
    ) -> Iterator[str | Answer]:
        """Yield answer text as it comes, then the final ``Answer``; ``filters`` narrow retrieval."""
        t_start = time.perf_counter()
        question = check_question(question)
        language: Language = detect_language(question)
        timings: dict[str, float] = {}

        t0 = time.perf_counter()
        standalone = self.condense(question, history)
        timings["condense"] = (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        retrieval = self.retriever.retrieve(standalone, k, filters)
        passages = retrieval.passages
        kind = question_kind(standalone)  # news: "latest" prefers newer articles
        if kind == "latest":
            passages = rerank_by_recency(passages)
        sentences = self.retriever.index.sentences_of([p.chunk_id for p in passages])
        timings["retrieve"] = (time.perf_counter() - t0) * 1000
        relevance = (
            self.retriever.score_sentences(retrieval.vector, detect_language(standalone), sentences)
            if passages
            else -1.0
        )

        answer = Answer(
            question=question, answer="", refused=False, language=language, passages=passages,
            model=self.model_name, embedding_model=self.embedding_model, standalone_question=standalone,
            relevance=round(relevance, 4),
        )
        picks = select(standalone, retrieval.vector, passages, sentences) if passages else []
        threshold = self.min_relevance.get(detect_language(standalone), -1.0)
        t0 = time.perf_counter()
        if news.no_match(answer, filters):  # filters left no passage: say so, not the generic refusal
            yield answer.answer
        elif relevance < threshold or not picks:
            answer.refused = True
            answer.answer = NO_ANSWER[language]
            yield answer.answer
        elif self.answer_chain is None:
            answer.answer = compose(picks, language, {p.n: source_label(p, language) for p in passages})
            answer.citations = self._extractive_citations(picks, passages)
            answer.notice = "extractive"
            yield answer.answer
        else:
            yield from self._generate(answer, question, history, passages, sentences, picks)
        extra = news.finish(answer, standalone, passages, sentences, kind)  # news: conflicts, as-of / when dates
        if extra:
            yield extra
        timings["generate"] = (time.perf_counter() - t0) * 1000
        timings["total"] = (time.perf_counter() - t_start) * 1000
        answer.timings_ms = {**{f"retrieve.{k}": v for k, v in retrieval.timings_ms.items()}, **timings}
        yield answer

    def _generate(
        self,
        answer: Answer,
        question: str,
        history: History,
        passages: Sequence[Passage],
        sentences: dict[str, list[dict]],
        picks: Sequence[Pick],
    ) -> Iterator[str]:
        assert self.answer_chain is not None
        inputs = {
            "context": format_context(passages),
            "question": question,
            "history": _messages(history),
            "language_name": LANGUAGE_NAME[answer.language],
            "no_answer": NO_ANSWER[answer.language],
            "cite_reminder": CITE_REMINDER[answer.language],
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
            error = model_error(exc, self.model_name, self.secrets)
            if not parts:
                raise error from None
            answer.incomplete = True
            answer.notice = f"incomplete: {error}"
        meta = getattr(final, "response_metadata", None) or {}
        reason = next((meta[k] for k in ("finish_reason", "stop_reason", "done_reason") if meta.get(k)), None)
        if parts and meta and not answer.incomplete and reason in (None, "length", "max_tokens"):
            answer.incomplete = True  # the stream ended without "stop": the server died or the length ran out
            answer.notice = (f"incomplete: the model {self.model_name} stopped before the end of its answer"
                             f"{' (length limit)' if reason else ''}; try again")
        answer.usage = _usage(final)
        raw = "".join(parts).strip()
        if not raw or NO_ANSWER[answer.language] in raw or any(p in raw for p in NO_ANSWER.values()):
            if not _has_marker(raw):
                answer.refused = True
                answer.answer = NO_ANSWER[answer.language]
                return
        text, citations = build_citations(
            raw, passages, sentences, embed=self.retriever.index.embeddings.embed_documents
        )
        if not citations:
            citations = self._extractive_citations(picks, passages)
            answer.notice = (answer.notice + "; " if answer.notice else "") + FALLBACK_NOTICE[answer.language]
        answer.answer, answer.citations = text, citations

    def ask(
        self, question: str, history: History = (), k: int | None = None, filters: Filters | None = None
    ) -> Answer:
        result: Answer | None = None
        for item in self.stream(question, history, k, filters):
            if isinstance(item, Answer):
                result = item
        assert result is not None
        return result


def _has_marker(text: str) -> bool:
    return bool(re.search(r"[\[【]\s*\d", text))
