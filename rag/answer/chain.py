"""The question-answering pipeline as one LangChain ``Runnable``: condense → retrieve → evidence → answer.

``RagChain`` takes ``{"question": …, "history": [{"role", "content"}, …]}`` (plus optional
``k`` and ``filters``; a bare string is a question) and returns one ``Answer``; ``invoke``,
``stream``, ``batch``, ``astream`` and ``astream_events`` all work, and callbacks see the
retriever run and every model run inside the chain's run. ``stream`` yields the
``Evidence`` first (the cited sources, before any model call), then answer text as it
comes, then the final ``Answer``. When the evidence does not answer, the chain refuses in
the question's language (``rag.answer.refusal``): without calling the model, or after its
one-token check when it restates the evidence. Offline the
answer is the quoted evidence (``rag.answer.extractive``); with a model it is written by
``rag.answer.synthesis`` or, for a small local model, ``rag.answer.restate``. Settings
are not read here (``rag.factory`` builds the chain).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForChainRun
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableConfig

from rag.answer import news
from rag.answer.attributes import unstated, unwritten
from rag.answer.checks import check_question
from rag.answer.cite import CitedText, build_citations, item_citations
from rag.answer.evidence import CUE_WEIGHT, FIGURE_WEIGHT, name_forms, select, topic_words, window
from rag.answer.extractive import compose
from rag.answer.followup import (History, carry_topic, leans_on_history, new_names, stands_alone,
                                 transcript, usable_rewrite)
from rag.answer.memo import MEMO_SIZE, Memo
from rag.answer.prompts import (ANSWER_PROMPT, CONDENSE_PROMPT, GATE_PROMPT, NEVER_MENTIONED, NO_ANSWER,
                                RESTATE_PROMPT, TRANSLATE_PROMPT, TRANSLATE_TARGET)
from rag.answer.refusal import RefusalPolicy
from rag.answer.replies import Writer, total_usage
from rag.answer.restate import restate
from rag.answer.synthesis import synthesise
from rag.answer.unknown import refusal_terms, unknown_listed, unknown_names, unknown_topic
from rag.answer.timeline import DEFAULT_K as TIMELINE_K, Timeline, build_timeline, phrase_events
from rag.dates import source_label
from rag.llm.failures import model_error
from rag.models import Answer, Evidence, Sentence
from rag.retrieval.filters import Filters
from rag.retrieval.question import follow_up_kind, for_search, quoted, script, to_script
from rag.retrieval.recency import rerank_by_recency
from rag.retrieval.retrieve import Retriever
from rag.retrieval.translate import translate as dictionary_translate
from rag.text import detect_language


@dataclass(frozen=True)
class Request:
    """One question to answer, as the chain's input dict spells it."""

    question: str
    history: History = ()
    k: int | None = None
    filters: Filters | None = None

    @classmethod
    def of(cls, value: str | dict[str, Any] | Request) -> Request:
        if isinstance(value, Request):
            return value
        if isinstance(value, str):
            return cls(value)
        return cls(value["question"], tuple(value.get("history") or ()), value.get("k"), value.get("filters"))


@dataclass
class _Gathered:
    evidence: Evidence
    sentences: dict[str, list[Sentence]]  # every candidate's scored sentences (for the news layer)
    kind: str
    timings: dict[str, float]


class RagChain(Runnable[dict[str, Any], Answer]):
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
        min_answer_probability: float = 0.0,
        translation: str = "dictionary",
        rerank_depth: int = 25,
        followup: str = "previous",
        condense: str = "model",
        generation: str = "synthesis",
        evidence_cues: bool = True,
        memo_size: int = MEMO_SIZE,
        secrets: Sequence[str | None] = (),
    ) -> None:
        self.retriever = retriever
        self.llm = llm
        self.model_name = model_name
        self.embedding_model = embedding_model
        self.policy = RefusalPolicy(min_relevance, min_overlap, min_answer_probability)
        self.translation = translation
        self.rerank_depth = rerank_depth  # candidates whose sentences are scored for evidence
        self.followup = followup
        self.generation = generation
        self.evidence_cues = evidence_cues
        self.secrets = tuple(secrets)
        self.answer_chain = (ANSWER_PROMPT | llm) if llm is not None else None
        self.restate_chain = (RESTATE_PROMPT | llm) if llm is not None else None
        self.gate_chain = (GATE_PROMPT | llm.bind(max_tokens=1, logprobs=True, top_logprobs=10)
                           if llm is not None and generation == "restate" else None)  # restating never refuses
        self.condense_chain = ((CONDENSE_PROMPT | llm | StrOutputParser()) if llm is not None and condense == "model"
                               else None)  # 'offline': follow-ups are joined as without a model
        self.translate_chain = (TRANSLATE_PROMPT | llm | StrOutputParser()) if llm is not None else None
        self.memo = Memo(memo_size)  # questions translated for search, evidence sentences translated for the reader

    @property
    def extractive(self) -> bool:
        return self.llm is None

    # ---- the Runnable interface ------------------------------------------------------

    def invoke(self, input: str | dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        result: Answer | None = None
        for item in self.stream(input, config, **kwargs):
            if isinstance(item, Answer):
                result = item
        assert result is not None
        return result

    def stream(
        self, input: str | dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Evidence | str | Answer]:
        """Yield the ``Evidence`` first, then answer text as it comes, then the final ``Answer``."""
        yield from self._transform_stream_with_config(iter([input]), self._run, config, **kwargs)

    async def astream(
        self, input: str | dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Evidence | str | Answer]:
        """``stream`` on a worker thread, each piece handed to the event loop as it comes."""
        pieces = self.stream(input, config, **kwargs)
        done = object()
        while (piece := await asyncio.to_thread(next, pieces, done)) is not done:
            yield piece

    async def ainvoke(self, input: str | dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        result: Answer | None = None
        async for item in self.astream(input, config, **kwargs):
            if isinstance(item, Answer):
                result = item
        assert result is not None
        return result

    def ask(self, question: str, history: History = (), k: int | None = None, filters: Filters | None = None) -> Answer:
        """``invoke`` with the request's parts as arguments."""
        return self.invoke({"question": question, "history": list(history), "k": k, "filters": filters})

    def _run(
        self, inputs: Iterator[str | dict[str, Any]], run_manager: CallbackManagerForChainRun, config: RunnableConfig
    ) -> Iterator[Evidence | str | Answer]:
        request = Request.of(next(inputs))
        yield from self._answer(request, config)

    # ---- steps -----------------------------------------------------------------------

    def condense(self, question: str, history: History, config: RunnableConfig | None = None) -> str:
        """A standalone question for retrieval."""
        last_user = next((for_search(t["content"]) for t in reversed(history) if t.get("role") == "user"), None)
        if not last_user or stands_alone(question, history):  # a model call saved: seconds on a laptop
            return question
        if self.condense_chain is not None:
            recent = history[-4:]
            conversation = for_search(transcript(recent))
            try:
                rewritten = self.condense_chain.invoke({"conversation": conversation, "question": question}, config)
            except Exception as exc:
                raise model_error(exc, self.model_name, self.secrets) from None
            first = rewritten.strip().splitlines()[0] if rewritten.strip() else ""
            if usable_rewrite(first, question, recent):
                return check_question(for_search(first))
        if self.followup == "previous":  # offline, or the model's rewrite was not a question
            return f"{last_user} {question}" if leans_on_history(question, history) else question
        return carry_topic(question, last_user)

    def translate(self, question: str, config: RunnableConfig | None = None) -> str:
        """The question in the other language, for cross-lingual retrieval ('' when not translated)."""
        mode = self.translation
        if mode == "off":
            return ""
        if mode == "llm" and self.translate_chain is not None:
            cached = self.memo.get(("question", question))
            if cached is not None:
                return cached
            try:
                target = TRANSLATE_TARGET[detect_language(question)]
                text = self.translate_chain.invoke({"question": question, "target": target}, config)
            except Exception as exc:
                raise model_error(exc, self.model_name, self.secrets) from None
            text = " ".join(text.strip().split())[:400]
            self.memo.put(("question", question), text)
            return text
        return dictionary_translate(question, self.retriever.knows)

    def gather(
        self, question: str, history: History = (), k: int | None = None, filters: Filters | None = None
    ) -> tuple[Evidence, dict[str, float]]:
        """Condense, translate, retrieve and select: the evidence, before any answer text."""
        found = self._gather(question, history, k, filters, None)
        return found.evidence, found.timings

    def _gather(
        self, question: str, history: History, k: int | None, filters: Filters | None, config: RunnableConfig | None
    ) -> _Gathered:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        standalone = self.condense(question, history, config)
        timings["condense"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        translation = self.translate(standalone, config)
        timings["translate"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        k = k or self.retriever.k
        searched = [translation] if translation else []
        about = new_names(question, history) if standalone != question else []
        if about:  # a follow-up turning to someone or something new is also searched as typed
            searched.append(question)
        quotes = quoted(question)  # the passages holding a phrase the user quotes are candidates
        retrieval = self.retriever.retrieve(standalone, max(k, self.rerank_depth), searched, filters, config,
                                            also_scored=[question],  # a follow-up's sentences: also by what it asks now
                                            phrases=quotes)
        asked = follow_up_kind(question, standalone)  # its own question word, else the joined question's
        passages = rerank_by_recency(retrieval.passages) if asked == "latest" else retrieval.passages  # news:
        evidence = select(question, standalone, retrieval.queries, asked, passages,  # newer articles first
                          retrieval.sentences, self.retriever.knows, k=k,
                          cue_weight=CUE_WEIGHT if self.evidence_cues else 0.0,
                          figure_weight=FIGURE_WEIGHT if self.evidence_cues else 0.0, about=about, quotes=quotes)
        chosen = [it.sentence.text for it in evidence.items]
        # the names the fact must be stated beside: those the user's own question names, when it names any
        # ("Who founded Character.ai?" joined with a question about Musk and OpenAI is not answered by
        # OpenAI's co-founders), else those of the question it was joined with ("Who founded it?")
        named = (name_forms(topic_words(question, self.retriever.knows))
                 or name_forms(topic_words(standalone, self.retriever.knows)))
        missing = unstated(standalone, asked, [window(it) for it in evidence.items] + evidence.checked, named)
        evidence.unstated = list(missing.values())  # a salary, a verdict, a founder no sentence states
        evidence.unknown_terms = (unknown_names(standalone, self.retriever.knows, self.retriever.knows_label)
                                  or unknown_topic(standalone, self.retriever.knows, chosen)
                                  or unwritten(missing, self.retriever.knows))  # "salary"
        timings["retrieve"] = (time.perf_counter() - t0) * 1000
        timings.update({f"retrieve.{key}": v for key, v in retrieval.timings_ms.items()})
        return _Gathered(evidence, retrieval.sentences, asked, timings)

    def timeline(self, topic: str, k: int | None = None, filters: Filters | None = None,
                 config: RunnableConfig | None = None) -> Timeline:
        """The dated events about ``topic`` (``rag.answer.timeline``), phrased by the model when one answers."""
        found = build_timeline(self.retriever, topic, k or TIMELINE_K, filters)
        if self.restate_chain is None or not found.events:
            return found
        return phrase_events(found, self.restate_chain, self.model_name, config)

    def _cite(self, text: str, evidence: Evidence) -> CitedText:
        return build_citations(text, evidence, embed=self.retriever.embed_texts, centre=self.retriever.centre)

    # ---- the pipeline ----------------------------------------------------------------

    def _answer(self, request: Request, config: RunnableConfig | None) -> Iterator[Evidence | str | Answer]:
        t_start = time.perf_counter()
        question = check_question(request.question)
        user_script = script(question)
        question_s = for_search(question)
        language = detect_language(question)
        found = self._gather(question_s, request.history, request.k, request.filters, config)
        evidence, timings = found.evidence, found.timings
        yield evidence
        answer = Answer(
            question=question, answer="", refused=False, language=language, passages=evidence.passages,
            model=self.model_name, embedding_model=self.embedding_model,
            standalone_question=evidence.standalone_question, relevance=evidence.relevance,
        )
        t0, earlier = time.perf_counter(), []  # the model's replies before the answer's own (its check)
        if news.no_match(answer, request.filters):  # filters left no passage: say so, not the generic refusal
            answer.answer = to_script(answer.answer, user_script)
            yield answer.answer
        elif (self.policy.refuse(evidence, detect_language(evidence.standalone_question))
              or self.policy.model_declines(self.gate_chain, evidence, config, earlier)):
            answer.refused, answer.usage = True, total_usage(earlier)
            said = NO_ANSWER[language]
            listed = unknown_listed(*refusal_terms(question_s, evidence.standalone_question, evidence.unknown_terms,
                                                   self.retriever.knows, self.retriever.knows_label), language)
            if listed:  # say what no article mentions, as the question writes it
                said += NEVER_MENTIONED[language].format(names=listed)
            answer.answer = to_script(said, user_script)
            yield answer.answer
        elif self.llm is None:
            labels = {p.n: source_label(p, language) for p in evidence.passages}
            answer.answer = to_script(compose(evidence.items, language, labels), user_script)
            answer.citations = item_citations(evidence)
            answer.notice = "extractive"
            yield answer.answer
        else:
            writer = Writer(self.model_name, self.secrets, self._cite, config)
            if self.generation == "restate":
                assert self.restate_chain is not None
                pieces = restate(self.restate_chain, writer, answer, question, evidence, earlier, self.memo)
            else:
                assert self.answer_chain is not None
                pieces = synthesise(self.answer_chain, writer, answer, question, request.history, evidence)
            for piece in pieces:
                yield to_script(piece, user_script)
            answer.answer = to_script(answer.answer, user_script)
        extra = news.finish(answer, evidence.standalone_question, evidence.passages, found.sentences,
                            found.kind if found.kind in ("latest", "when") else "other")
        if extra:  # news: disagreeing sources, the date a "latest" answer is as of, "when" dates
            answer.answer = to_script(answer.answer, user_script)  # the note was appended as written
            yield to_script(extra, user_script)
        timings["generate"] = (time.perf_counter() - t0) * 1000
        timings["total"] = (time.perf_counter() - t_start) * 1000
        answer.timings_ms = timings
        yield answer
