"""The Streamlit app: chat with the news articles, with sources a person can check.

``streamlit run app.py``. Settings become an index and a chain once per server
process (``ui.resources``, ``st.cache_resource``); the chat lives in
``st.session_state``; answers stream in and are then replaced by the final,
citation-checked ``Answer``, rendered by ``ui.render``. Pages: Chat (here),
Timeline, Corpus and Eval results (``app_pages/``: a folder named ``pages/`` would also be
served as old-style pages on a direct link). Errors a user can act on
(``RagError``) show as a short message and the conversation survives; a bad
setting stops every page with one line (``ui.resources``).

What it leaves out: retrieval, prompts and citation logic (all in ``rag``).
"""

from __future__ import annotations

import logging
import traceback
from contextlib import closing
from pathlib import Path

import streamlit as st

from rag.errors import RagError
from rag.models import Answer, Evidence
from rag.redact import redact
from rag.text import detect_language
from ui import model_status, news, render, resources

STARTERS = [
    "Why did Musk leave OpenAI?",
    "微软持有OpenAI多少股份？",
    "How much did Musk's group offer to buy OpenAI?",
    "Character.ai 在和哪些公司洽谈合作？",
]
HISTORY_TURNS = 6  # question/answer pairs passed to the chain for follow-ups
log = logging.getLogger("rag.app")


def chain_history(messages: list[dict]) -> list[dict[str, str]]:
    """Answered turns only (a failed question is not context), newest last."""
    history: list[dict[str, str]] = []
    for prev, msg in zip(messages, messages[1:]):
        if prev["role"] == "user" and msg["role"] == "assistant" and "answer" in msg:
            history += [{"role": "user", "content": prev["content"]},
                        {"role": "assistant", "content": msg["answer"].answer}]
    return history[-2 * HISTORY_TURNS:]


def _queue(question: str) -> None:
    st.session_state["pending"] = question


def _new_conversation() -> None:
    st.session_state["messages"] = []


def _show(msg: dict) -> None:
    with st.chat_message(msg["role"]):
        if msg["role"] == "user":
            st.markdown(render.md_escape(msg["content"]))
        elif "answer" in msg:
            render.answer(msg["answer"])
        elif "stopped" in msg:
            st.markdown(render.md_escape(msg["stopped"]))
            st.caption("Stopped · 已停止")
        else:
            st.error(msg["error"], icon=":material/error:")


def _ask(question: str, chain, k: int, filters=None) -> None:
    messages = st.session_state["messages"]
    history = chain_history(messages)
    messages.append({"role": "user", "content": question})
    _show(messages[-1])
    with st.chat_message("assistant"):
        slot = st.empty()
        evidence_slot = st.empty()
        final: Answer | None = None
        text = ""
        # Stopping: the button's click reruns the script, which ends this stream (closed, so the
        # model stops generating too); what came so far is kept in the conversation as a stopped answer.
        stopped = {"role": "assistant", "stopped": ""}
        messages.append(stopped)
        stop_slot = st.empty()  # cleared when the answer is done: a finished answer has no Stop button
        stop_slot.button("Stop", icon=":material/stop_circle:", key=f"stop-{len(messages)}")
        try:
            turn = {"question": question, "history": history, "k": k, "filters": filters}
            with closing(chain.stream(turn)) as stream:
                for item in stream:
                    if isinstance(item, Answer):
                        final = item
                    elif isinstance(item, Evidence):
                        with evidence_slot.container():
                            render.evidence(item, detect_language(question))
                    else:
                        text += item
                        stopped["stopped"] = text
                        slot.markdown(render.md_escape(text) + " ▌")
        except RagError as exc:
            error = f"Couldn't answer: {render.md_escape(redact(str(exc)))}. Your conversation is kept; ask again."
        except Exception as exc:  # never show a traceback; the log has it, secrets removed
            log.error("question failed: %s", redact("".join(traceback.format_exception(exc))))
            error = f"Something went wrong ({type(exc).__name__}). Your conversation is kept; try again."
        else:
            error = None if final is not None else "The answerer returned nothing; try again."
        evidence_slot.empty()
        stop_slot.empty()
        messages.remove(stopped)
        if error:
            slot.empty()
            st.error(error, icon=":material/error:")
            messages.append({"role": "assistant", "error": error})
            return
        with slot.container():
            render.answer(final)
        messages.append({"role": "assistant", "answer": final})


def chat_page() -> None:
    s = resources.settings()
    idx = resources.index(s)
    st.session_state.setdefault("messages", [])
    with st.sidebar:
        st.button("New conversation", icon=":material/add_comment:", on_click=_new_conversation, width="stretch")
        k = st.slider("Passages to retrieve (k)", 1, max(20, s.k), value=s.k, key="k")
        filters = news.filter_sidebar([d.outlet for d in resources.documents(s, idx) if d.outlet])
        st.caption("Try asking · 试着问")
        for i, q in enumerate(STARTERS):
            st.button(q, key=f"starter-{i}", on_click=_queue, args=(q,), width="stretch")
    st.title("News Q&A · 新闻问答")
    try:
        chain = resources.chain(s, idx)
    except RagError as exc:
        st.error(f"The answerer cannot start: {render.md_escape(redact(str(exc)))}", icon=":material/error:")
        return
    if not st.session_state["messages"]:
        st.markdown(
            "Ask about the news articles in English or Chinese. Every answer cites the passages it "
            "comes from, so you can check it. · 用中文或英文提问，每个回答都标注了出处。"
        )
    for msg in st.session_state["messages"]:
        _show(msg)
    typed = st.chat_input("Ask about the articles… · 输入你的问题…", max_chars=2000)
    question = typed or st.session_state.pop("pending", None)
    if question:
        _ask(question, chain, k, filters)


def status_sidebar() -> None:
    """Models and index status, on every page."""
    s = resources.settings()
    idx = resources.index(s)
    try:
        resources.chain(s, idx)
        available = True
    except RagError:
        available = False
    with st.sidebar:
        st.divider()
        st.markdown("**Models**")
        model_status.show(resources.answerer(s), available, lambda: resources.answerer(s))
        st.caption(f"Embeddings: `{s.embedding_model}`")
        docs = resources.documents(s, idx)
        st.markdown("**Index**")
        st.caption(f"{len(docs)} articles · {idx.count()} passages")
        stamp = resources.last_ingest(s)
        if stamp is None:
            st.caption("Last ingest: not recorded")
        else:
            st.caption(f"Last ingest: {stamp['time']}", help=stamp["summary"])


# A local file: a ":material/…:" or emoji page icon makes the browser fetch the favicon from a CDN.
st.set_page_config(page_title="News Q&A", page_icon=str(Path(__file__).resolve().parent / "ui" / "favicon.png"))
nav = st.navigation(
    [
        st.Page(chat_page, title="Chat", icon=":material/chat:", default=True),
        st.Page("app_pages/timeline.py", title="Timeline", icon=":material/timeline:"),
        st.Page("app_pages/corpus.py", title="Corpus", icon=":material/library_books:"),
        st.Page("app_pages/eval_results.py", title="Eval results", icon=":material/monitoring:"),
    ]
)
nav.run()
status_sidebar()
