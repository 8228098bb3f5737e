"""The Streamlit app driven headless with ``AppTest``: chat, sources, errors, corpus uploads.

Offline throughout: the extractive answerer over the session's seeds index, or
scripted LangChain chat models registered through ``rag.llm.providers`` (the same
door real models use). Uploads use a writable index copy and a temp seeds dir.
Also unit tests of the small ``ui`` helpers (escaping, upload checks, reports).
What it leaves out: the real browser (``test_browser.py``).
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from streamlit.testing.v1 import AppTest

from rag.answer.prompts import NO_ANSWER
from rag.llm.providers import register_chat_model, unregister_chat_model

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
APP = ROOT / "app.py"
SEEDS = ROOT / "seeds"
TIMEOUT = 120

from ui import render  # noqa: E402
from ui.upload import add_uploads, safe_filename  # noqa: E402


class ScriptedChat(BaseChatModel):
    """Replies from a script, one item per call; an exception item is raised. Records its inputs."""

    script: list[Any] = []
    seen: list[Any] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _next(self, messages: list) -> str:
        self.seen.append(messages)
        item = self.script.pop(0) if self.script else "The articles don't cover this."
        if isinstance(item, BaseException):
            raise item
        return item

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self._next(messages)))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        for piece in re.findall(r"\S+\s*", self._next(messages)):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, seeds_index_dir: Path) -> None:
    monkeypatch.setenv("RAG_PERSIST_DIR", str(seeds_index_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(SEEDS))


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch, app_env: None):
    """Install a scripted model as RAG_CHAT_MODEL (a unique name, so the app builds a fresh chain)."""
    models: dict[str, ScriptedChat] = {}
    register_chat_model("scripted", lambda name, options: models[name])

    def make(*script: Any) -> ScriptedChat:
        name = uuid.uuid4().hex
        models[name] = ScriptedChat(script=list(script), seen=[])
        monkeypatch.setenv("RAG_CHAT_MODEL", f"scripted:{name}")
        return models[name]

    yield make
    unregister_chat_model("scripted")


def start() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def assistant(at: AppTest) -> list:
    return [m for m in at.chat_message if m.name == "assistant"]


def cards(block) -> list[str]:
    return [h.value for h in block.html if 'class="source-card"' in h.value]


def connection_error() -> openai.APIConnectionError:
    return openai.APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions"))


# ---- chat -------------------------------------------------------------------------------


def test_answer_has_source_card_naming_an_article(app_env: None, seeds_index_dir: Path) -> None:
    at = ask(start(), "Why did Musk leave OpenAI?")
    [reply] = assistant(at)
    answer = at.session_state["messages"][-1]["answer"]
    assert not answer.refused and answer.citations
    shown = cards(reply)
    assert len(shown) == len(answer.cited_passages) >= 1
    assert any(c.title in " ".join(shown) for c in answer.citations)
    assert "<mark>" in shown[0]  # the supporting sentence is highlighted
    assert any("[" in m.value and "]" in m.value for m in reply.markdown)  # inline [n] markers
    assert "offline extractive" in " ".join(c.value for c in at.sidebar.caption)
    assert "5 articles" in " ".join(c.value for c in at.sidebar.caption)
    # built by Index.ingest outside the app (the session fixture), still shown with its time
    assert any(c.value.startswith("Last ingest: 20") for c in at.sidebar.caption)


def test_a_finished_answer_has_no_stop_button(app_env: None) -> None:
    at = ask(start(), "Why did Musk leave OpenAI?")
    assert assistant(at) and not [b for b in at.button if (b.key or "").startswith("stop-")]


def test_sidebar_names_the_command_that_fetches_a_missing_model(app_env, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("RAG_CHAT_MODEL", "auto")  # the default, with an empty models directory
    monkeypatch.setenv("RAG_MODELS_DIR", str(tmp_path / "no-models"))
    at = ask(start(), "Why did Musk leave OpenAI?")
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert "Local model missing" in sidebar and "rag model fetch qwen2.5-1.5b" in sidebar and "make app" in sidebar
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.citations and answer.model == "extractive"  # still answered, extractively


def test_follow_up_carries_the_conversation(app_env: None) -> None:
    at = start()
    at.sidebar.slider(key="k").set_value(3).run()
    at = ask(ask(at, "Why did Musk leave OpenAI?"), "Why did he leave?")
    assert len(at.session_state["messages"][1]["answer"].passages) <= 3  # the k slider is used
    assert len(assistant(at)) == 2
    follow = at.session_state["messages"][-1]["answer"]
    assert "Musk" in (follow.standalone_question or "")
    at.sidebar.button[0].click().run()  # New conversation
    assert not at.chat_message and at.session_state["messages"] == []


def test_starter_question_asks_it(app_env: None) -> None:
    at = start()
    at.sidebar.button(key="starter-1").click().run()
    assert not at.exception
    user = [m for m in at.chat_message if m.name == "user"]
    assert user and "微软持有OpenAI多少股份" in user[0].markdown[0].value
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.language == "zh" and not answer.refused
    assert any("微软与 OpenAI 合作的另一面" in c for c in cards(assistant(at)[0]))
    assert any(m.value == "**来源**" for m in assistant(at)[0].markdown)


def test_connection_error_is_friendly_and_history_survives(scripted) -> None:
    model = scripted(
        "Musk's group offered 974亿美元 for OpenAI [1].",
        connection_error(),  # condensing the follow-up fails
        "Why did Musk offer 974亿美元?",  # the next follow-up is condensed ...
        "Musk wanted control [1].",  # ... and answered
    )
    at = ask(start(), "Why did Musk leave OpenAI?")
    at = ask(at, "And what happened then?")
    errors = [e.value for e in at.error]
    assert errors and "cannot reach the model" in errors[0] and "Traceback" not in errors[0]
    assert len(at.chat_message) == 4  # both questions, the answer and the error stay
    assert "974" in " ".join(m.value for m in assistant(at)[0].markdown)
    at = ask(at, "Why did he offer that?")
    assert len(at.chat_message) == 6 and "answer" in at.session_state["messages"][-1]
    history = model.seen[-1]  # the failed turn is not passed on as context
    assert "974" in " ".join(str(m.content) for m in history) and "what happened then" not in str(history)


def test_scripted_answer_drops_unknown_marker(scripted) -> None:
    scripted("Musk thought OpenAI's chance of success was zero and planned an AGI rival inside Tesla [1]. "
             "Microsoft owns half of it [9].")
    at = ask(start(), "Why did Musk leave OpenAI?")
    [reply] = assistant(at)
    text = " ".join(m.value for m in reply.markdown)
    answer = at.session_state["messages"][-1]["answer"]
    assert "9]" not in text and "[9]" not in answer.answer
    assert not answer.notice or "extractive" not in answer.notice
    assert cards(reply) and all(c.n != 9 for c in answer.citations)
    assert answer.model.startswith("scripted:")


def test_refusal_is_shown_in_the_question_language(scripted) -> None:
    scripted(NO_ANSWER["zh"])
    at = ask(start(), "马斯克为什么离开OpenAI？")
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.refused
    assert [w.value for w in at.warning] == [render.md_escape(NO_ANSWER["zh"])]
    assert not cards(assistant(at)[0])


def test_missing_key_shows_the_fix(monkeypatch: pytest.MonkeyPatch, app_env: None) -> None:
    monkeypatch.setenv("RAG_CHAT_MODEL", "openai:gpt-4o-mini")
    at = start()
    assert any("OPENAI_API_KEY" in e.value for e in at.error)
    assert not at.exception


# ---- corpus -----------------------------------------------------------------------------

GOOD = """# Zephyr Robotics raises funding

Zephyr Robotics, a warehouse robot maker, raised 12 million dollars from Aurora Capital in March.
<script>alert("pwned")</script>
The company said the money will pay for a new factory in Lyon.
"""


@pytest.fixture
def corpus_env(monkeypatch: pytest.MonkeyPatch, index_dir: Path, tmp_path: Path) -> Path:
    seeds = tmp_path / "new-seeds"
    seeds.mkdir()
    monkeypatch.setenv("RAG_PERSIST_DIR", str(index_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(seeds))
    return seeds


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].upload(name, data, "text/plain").run()
    [button] = [b for b in at.button if b.label.startswith("Add ")]
    button.click().run()
    assert not at.exception, at.exception
    return at


def test_upload_good_and_bad_files(corpus_env: Path) -> None:
    at = start().switch_page("app_pages/corpus.py").run()
    assert len(at.dataframe[0].value) == 5
    at = upload(at, "../../zephyr robotics.md", GOOD.encode())
    assert [s.value for s in at.success] == ["zephyr_robotics.md: added"]
    assert (corpus_env / "zephyr_robotics.md").read_bytes() == GOOD.encode()
    assert len(at.dataframe[0].value) == 6

    at = upload(at, "evil.txt", b"\x00\x01\x02binary\x00" * 50)
    assert [e.value for e in at.error] == ["evil.txt: looks like a binary file, not text"]
    assert not (corpus_env / "evil.txt").exists()
    assert len(at.dataframe[0].value) == 6  # nothing indexed was lost

    at.selectbox(key="read").set_value("zephyr_robotics").run()
    body = " ".join(h.value for h in at.html)
    assert "&lt;script&gt;" in body and "<script" not in body

    at = ask(start(), "How much did Zephyr Robotics raise from Aurora Capital?")  # a new session sees it
    answer = at.session_state["messages"][-1]["answer"]
    assert "zephyr_robotics" in {c.doc_id for c in answer.citations}
    assert all("<script" not in c for c in cards(assistant(at)[0]))


def test_add_uploads_refuses_to_overwrite(corpus_env: Path, index_dir: Path) -> None:
    from rag.config import Settings
    from rag.factory import open_store

    idx = open_store(Settings(persist_dir=index_dir, _env_file=None))
    outcomes, _ = add_uploads([("a.md", GOOD.encode())], corpus_env, idx)
    assert outcomes[0].ok
    changed = GOOD.replace("12 million", "15 million").encode()
    outcomes, report = add_uploads([("a.md", changed), ("000_9e7b033fb22a2303.txt", GOOD.encode())], corpus_env, idx)
    assert report is None and not any(o.ok for o in outcomes)
    assert "already in the corpus" in outcomes[0].message and "already used by" in outcomes[1].message
    assert (corpus_env / "a.md").read_bytes() == GOOD.encode()
    outcomes, report = add_uploads([("a.md", changed)], corpus_env, idx, replace=True)
    assert outcomes[0].ok and report is not None and report.updated == ["a"]


def test_safe_filename() -> None:
    assert safe_filename("../../etc/passwd.txt") == "passwd.txt"
    assert safe_filename("C:\\temp\\新闻 稿.MD") == "新闻_稿.md"
    assert safe_filename("a<b>|c.html") == "a_b_c.html"
    for bad in ("x.exe", ".txt", "...md", "noext"):
        with pytest.raises(Exception):
            safe_filename(bad)


# ---- rendering and eval reports ---------------------------------------------------------


def test_render_escapes_article_text() -> None:
    from rag.models import Citation, Passage

    text = 'Intro <script>alert(1)</script> [x](javascript:alert(1)) costs $5 and $6. Key "fact" here.'
    quote = 'Key "fact" here.'
    p = Passage(n=1, chunk_id="d#0000", doc_id="d", title="<b>T</b>", text=text, language="en",
                url="javascript:alert(1)")
    c = Citation(n=1, doc_id="d", chunk_id="d#0000", title="<b>T</b>", quote=quote,
                 span=(text.index(quote), len(text)))
    card = render.card_html(p, [c], "en")
    assert "<script" not in card and "&lt;script&gt;" in card and "&lt;b&gt;T" in card
    assert "href" not in card  # only http(s) URLs become links
    assert "<mark>Key &quot;fact&quot; here.</mark>" in card
    md = render.md_escape(text)
    assert "\\[x\\]" in md and "\\$5" in md and "\\<script\\>" in md
    assert render.safe_url("https://ft.com/x") == "https://ft.com/x" and render.safe_url("javascript:x") is None


# The Eval results page is tested in test_eval_page.py.


def test_core_never_imports_the_ui() -> None:
    for path in (ROOT / "rag").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from)\s+(streamlit|ui)\b", text, re.M), path
