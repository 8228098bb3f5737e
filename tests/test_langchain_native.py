"""The pipeline as LangChain objects: the chain is a Runnable, the retriever a BaseRetriever.

The chain answers through ``invoke``, ``batch``, ``stream``, ``astream`` and
``astream_events``; the hybrid retriever runs on its own inside a user's LCEL chain;
a callback handler sees the chain run, the retriever run and the model run, nested.
The model is the real openai client over HTTP to a scripted local server.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from openai_server import ScriptedOpenAI
from rag.factory import build_chain
from rag.models import Answer, Evidence

QUESTION = "Why did Musk leave OpenAI?"


class Recorder(BaseCallbackHandler):
    """Every run start and end, with its run id and parent."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, UUID, UUID | None]] = []

    def _add(self, event: str, name: str, run_id: UUID, parent_run_id: UUID | None) -> None:
        self.events.append((event, name, run_id, parent_run_id))

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                       **kw: Any) -> None:
        self._add("chain_start", kw.get("name") or "", run_id, parent_run_id)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kw: Any) -> None:
        self._add("chain_end", type(outputs).__name__, run_id, parent_run_id)

    def on_retriever_start(self, serialized: Any, query: str, *, run_id: UUID, parent_run_id: UUID | None = None,
                           **kw: Any) -> None:
        self._add("retriever_start", query, run_id, parent_run_id)

    def on_retriever_end(self, documents: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                         **kw: Any) -> None:
        self._add("retriever_end", str(len(documents)), run_id, parent_run_id)

    def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: UUID,
                            parent_run_id: UUID | None = None, **kw: Any) -> None:
        self._add("chat_model_start", "", run_id, parent_run_id)

    def of(self, event: str) -> list[tuple[str, str, UUID, UUID | None]]:
        return [e for e in self.events if e[0] == event]


def test_the_retriever_is_a_langchain_retriever_usable_in_any_chain(seeds_chain) -> None:
    retriever = seeds_chain.retriever
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("马斯克为什么离开OpenAI？")
    assert docs and all(isinstance(d, Document) for d in docs)
    assert [d.metadata["n"] for d in docs] == list(range(1, len(docs) + 1))
    first = docs[0].metadata
    assert {"chunk_id", "doc_id", "title", "outlet", "published", "language", "score"} <= set(first)
    assert docs[0].id == first["chunk_id"] and docs[0].page_content
    users_chain = retriever | RunnableLambda(lambda ds: "\n".join(f"[{d.metadata['doc_id']}] {d.page_content[:40]}"
                                                                  for d in ds))
    assert users_chain.invoke("Musk OpenAI lawsuit").startswith("[")


def test_the_chain_is_a_runnable_invoke_batch_stream(seeds_chain) -> None:
    assert isinstance(seeds_chain, Runnable)
    answer = seeds_chain.invoke({"question": QUESTION, "history": []})
    assert isinstance(answer, Answer) and answer.citations and not answer.refused
    assert seeds_chain.invoke(QUESTION).answer == answer.answer  # a bare string is a question
    both = seeds_chain.batch([{"question": QUESTION}, {"question": "马斯克为什么离开OpenAI？"}])
    assert [a.language for a in both] == ["en", "zh"] and both[0].answer == answer.answer
    pieces = list(seeds_chain.stream({"question": QUESTION}))
    assert isinstance(pieces[0], Evidence) and isinstance(pieces[-1], Answer)
    assert any(isinstance(p, str) for p in pieces[1:-1])


def test_the_chain_streams_async_and_its_events_name_the_retriever(seeds_chain) -> None:
    async def run() -> tuple[list[Any], list[dict]]:
        pieces = [p async for p in seeds_chain.astream({"question": QUESTION})]
        events = [e async for e in seeds_chain.astream_events({"question": QUESTION}, version="v2")]
        return pieces, events

    pieces, events = asyncio.run(run())
    assert isinstance(pieces[0], Evidence) and isinstance(pieces[-1], Answer)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "on_chain_start" and kinds[-1] == "on_chain_end"
    assert "on_retriever_start" in kinds and "on_retriever_end" in kinds
    assert isinstance(events[-1]["data"]["output"], Answer)
    assert asyncio.run(seeds_chain.ainvoke(QUESTION)).answer == pieces[-1].answer


def test_a_callback_handler_sees_the_retriever_run_and_the_model_run(settings_factory) -> None:
    with ScriptedOpenAI() as server:
        server.replies.append("Musk judged OpenAI's chance of success to be zero [1].")
        settings = settings_factory(chat_model="openai:gpt-4o-mini", openai_base_url=server.base_url,
                                    openai_api_key="sk-test", timeout=5, max_retries=0)
        chain = build_chain(settings)
        recorder = Recorder()
        answer = chain.invoke({"question": QUESTION, "history": []}, {"callbacks": [recorder]})
    assert isinstance(answer, Answer) and not answer.refused
    (root,) = [e for e in recorder.of("chain_start") if e[3] is None]
    assert root[1] == "RagChain"
    (retriever,) = recorder.of("retriever_start")
    assert retriever[1] == QUESTION and retriever[3] == root[2]  # the retriever run is the chain's child
    assert recorder.of("retriever_end")[0][1] != "0"
    models = recorder.of("chat_model_start")
    assert models, recorder.events  # the model run is seen, inside the chain's run
    parents = {e[2]: e[3] for e in recorder.events}
    for _, _, run_id, _ in models:
        top = run_id
        while parents.get(top) is not None:
            top = parents[top]
        assert top == root[2]
    ends = [e for e in recorder.of("chain_end") if e[2] == root[2]]
    assert ends and ends[0][1] == "Answer"
