"""The default answerer: the embedded llama.cpp server (xllamacpp) behind the ChatOpenAI door.

(a) Resolution, no model needed: ``auto`` is extractive with one plain notice
    when the GGUF is missing or the wheel cannot be imported, and the embedded
    model when the verified file is there; bad ``local:`` paths name the fix;
    ``rag ask`` shows the notice once on stderr.
(b) ``rag model speed`` on a scripted OpenAI-compatible server (real HTTP).
(c) The real model through the real openai client over HTTP to the real
    embedded server, when the GGUF is present (``$RAG_TEST_GGUF``, else
    ``$RAG_MODELS_DIR`` or ``models/``); with RAG_TEST_REQUIRE_LOCAL_LLM=1 (CI,
    ``make test``) its absence fails instead of skipping. Cited EN and ZH
    answers, four questions at once each getting its own answer, the prefix
    cache, the max-tokens cap, and a dead server (stopped for real) as a
    one-line error.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from openai_server import ScriptedOpenAI
from rag.llm import answerer, catalogue, embedded as embedded_llm
from rag.llm.command import model_command
from rag.errors import ConfigError, ModelError
from rag.answer.restate import MAX_RESTATED
from rag.factory import answerer_spec, answerer_status, build_chain
from rag.models import Answer
from rag.text import detect_language

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = catalogue.KNOWN_MODELS["qwen2.5-1.5b"]


@pytest.fixture
def sparse_default_model(tmp_path: Path) -> Path:
    """A models directory holding a file with the default model's name and size (sparse: costs no disk)."""
    models = tmp_path / "models"
    models.mkdir()
    with open(models / DEFAULT.filename, "wb") as f:
        f.write(b"GGUF")
        f.truncate(DEFAULT.size)
    return models


@pytest.fixture
def no_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # import xllamacpp → ImportError, as on an unsupported platform


# ---- (a) resolution -----------------------------------------------------------------------------


def test_auto_without_the_model_is_extractive_and_names_the_fetch_command(settings_factory, tmp_path) -> None:
    settings = settings_factory(chat_model="auto", models_dir=tmp_path / "empty")
    assert answerer_spec(settings) == "extractive"
    chain = build_chain(settings)
    assert chain.extractive and chain.model_name == "extractive"
    status = answerer_status(settings)
    assert status.state == "missing" and status.answerer == "extractive"
    assert "rag model fetch qwen2.5-1.5b" in status.message and "make app" in status.message
    assert chain.ask("Why did Musk leave OpenAI?").citations  # still answers, extractively


def test_auto_without_the_wheel_is_extractive_with_a_notice(settings_factory, sparse_default_model, no_wheel) -> None:
    settings = settings_factory(chat_model="auto", models_dir=sparse_default_model)
    assert build_chain(settings).extractive
    status = answerer_status(settings)
    assert status.state == "extractive" and "xllamacpp" in status.message


def test_auto_with_the_verified_file_chooses_the_embedded_model(settings_factory, sparse_default_model) -> None:
    settings = settings_factory(chat_model="auto", models_dir=sparse_default_model)
    assert answerer_spec(settings) == "local"
    assert answerer.default_model_present(sparse_default_model)
    with open(sparse_default_model / DEFAULT.filename, "r+b") as f:  # a partial file is not the model
        f.truncate(DEFAULT.size - 1)
    assert answerer_spec(settings) == "extractive"


def test_explicit_extractive_and_other_providers_are_unchanged(settings_factory, sparse_default_model) -> None:
    assert build_chain(settings_factory(chat_model="extractive", models_dir=sparse_default_model)).extractive
    assert answerer_status(settings_factory(chat_model="openai:gpt-4o-mini")).state == "ready"


@pytest.mark.parametrize("provider", ["local", "embedded", "llamacpp"])
@pytest.mark.parametrize("name, content, message", [
    ("absent.gguf", None, "does not exist"),
    ("model.bin", b"PK\x03\x04 not a gguf", "not a GGUF model file"),
])
def test_bad_model_paths_name_the_fix(settings_factory, tmp_path, provider, name, content, message) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        build_chain(settings_factory(chat_model=f"{provider}:{path}"))
    assert message in str(err.value) and "rag model fetch qwen2.5-1.5b" in str(err.value)


def test_a_file_llama_cpp_cannot_load_is_a_config_error(tmp_path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 64)
    config = embedded_llm.ServerConfig(bad)
    try:
        with pytest.raises(ConfigError, match="llama.cpp could not load"):
            embedded_llm.start(config)
        assert embedded_llm.state(config)[0] is embedded_llm.State.FAILED
    finally:
        embedded_llm.stop(config)


def test_local_without_the_wheel_is_one_line_in_the_cli(no_wheel, sparse_default_model, index_dir) -> None:
    from rag.cli.main import main

    env = {"RAG_CHAT_MODEL": "local", "RAG_MODELS_DIR": str(sparse_default_model),
           "RAG_PERSIST_DIR": str(index_dir), "RAG_SEEDS_DIR": str(ROOT / "seeds")}
    out = CliRunner().invoke(main, ["ask", "Why did Musk leave OpenAI?"], env=env)
    assert out.exit_code == 2
    assert out.output.strip().startswith("error:") and len(out.output.strip().splitlines()) == 1
    assert "xllamacpp" in out.output


def test_rag_ask_says_once_which_command_fetches_the_model(tmp_path, index_dir) -> None:
    from rag.cli.main import main

    env = {"RAG_CHAT_MODEL": "auto", "RAG_MODELS_DIR": str(tmp_path / "none"),
           "RAG_PERSIST_DIR": str(index_dir), "RAG_SEEDS_DIR": str(ROOT / "seeds")}
    out = CliRunner().invoke(main, ["ask", "Why did Musk leave OpenAI?"], env=env)
    assert out.exit_code == 0, out.output
    assert out.stderr.count("rag model fetch qwen2.5-1.5b") == 1 and "Sources:" in out.stdout


# ---- (b) rag model speed, on a scripted server ----------------------------------------------------------


def test_model_speed_reports_evidence_first_token_and_writes_results(index_dir, tmp_path) -> None:
    with ScriptedOpenAI() as server:
        server.replies.extend([{"text": "Warm-up [1].", "delay": 0.05}] + [
            {"text": "马斯克认为成功的可能性为零[1]。", "delay": 0.2}, {"text": "Musk left in 2018 [1].", "delay": 0.2},
        ] + [{"text": "Together [1].", "delay": 0.2}] * 2)
        env = {"RAG_CHAT_MODEL": "openai:m", "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k",
               "RAG_PERSIST_DIR": str(index_dir), "RAG_SEEDS_DIR": str(ROOT / "seeds")}
        out_file = tmp_path / "speed.json"
        out = CliRunner().invoke(model_command, [
            "speed", "--json", "--concurrent", "2", "--out", str(out_file),
            "马斯克为什么离开OpenAI？", "Why did Musk leave OpenAI?"], env=env)
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert [r["question"] for r in rows] == ["马斯克为什么离开OpenAI？", "Why did Musk leave OpenAI?"]
    for r in rows:
        assert 0 < r["evidence_s"] < r["first_token_s"] < r["total_s"]
        assert r["first_token_s"] >= 0.2 and r["prompt_tokens"] == 50 and r["reply_tokens"] > 1
    saved = json.loads(out_file.read_text())
    assert saved["rows"] == rows and saved["summary"]["first_token_s_p50"] is not None
    assert saved["summary"]["tokens_per_s_min"] == min(r["tokens_per_s"] for r in rows)
    assert saved["load_average"] >= 0 and saved["cpus"] >= 1
    assert [c["question"] for c in saved["concurrent"]] == [r["question"] for r in rows]
    assert all(c["error"] is None and c["together_s"] > 0 for c in saved["concurrent"])


def test_model_speed_does_not_import_the_cli() -> None:
    import subprocess

    code = "import sys, rag.llm.command; sys.exit('rag.cli.main' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


# ---- (c) the real model -------------------------------------------------------------------------------


def _real_models_dir() -> Path:
    if os.environ.get("RAG_TEST_GGUF"):
        return Path(os.environ["RAG_TEST_GGUF"]).parent
    return Path(os.environ.get("RAG_MODELS_DIR") or ROOT / "models")


def _real_gguf() -> Path:
    return Path(os.environ.get("RAG_TEST_GGUF") or _real_models_dir() / DEFAULT.filename)


def _require_real_model() -> None:
    reason = None
    if not embedded_llm.wheel_available():
        reason = embedded_llm.NO_WHEEL
    elif not _real_gguf().is_file():
        reason = f"no model file at {_real_gguf()} (run `rag model fetch qwen2.5-1.5b` or set RAG_TEST_GGUF)"
    if reason and os.environ.get("RAG_TEST_REQUIRE_LOCAL_LLM") == "1":  # CI and `make test`
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def real(seeds_index_dir: Path):
    """Settings for the real model (the default answerer when the file is the verified one), stopped at the end."""
    _require_real_model()
    from rag.config import Settings

    spec = "auto" if not os.environ.get("RAG_TEST_GGUF") else f"local:{_real_gguf()}"
    settings = Settings(_env_file=None, chat_model=spec, models_dir=_real_models_dir(),
                        persist_dir=seeds_index_dir, seeds_dir=ROOT / "seeds", timeout=600)
    yield settings
    embedded_llm.stop_all()


def _valid(answer: Answer) -> None:
    by_n = {p.n: p for p in answer.passages}
    assert answer.citations, answer
    for c in answer.citations:
        assert c.n in by_n and by_n[c.n].text[c.span[0]:c.span[1]] == c.quote


@pytest.mark.real_llm
@pytest.mark.timeout(900)
@pytest.mark.parametrize("question, language", [("Why did Musk leave OpenAI?", "en"),
                                                ("马斯克为什么离开OpenAI？", "zh")])
def test_the_real_model_streams_a_cited_answer_in_the_question_language(real, question, language) -> None:
    chain = build_chain(real)
    assert not chain.extractive and chain.model_name.startswith("local")
    pieces = list(chain.stream(question))
    answer = pieces[-1]
    assert isinstance(answer, Answer) and len(pieces) > 2  # streamed
    assert answerer_status(real).state == "ready"
    assert not answer.refused, answer.answer
    assert answer.language == language and len(answer.answer) > 10
    if language == "zh":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in answer.answer)
    _valid(answer)
    assert answer.usage and answer.usage.output_tokens > 0 and answer.usage.input_tokens > 100
    assert "[" in answer.answer  # the model's own markers survived the citation check


@pytest.mark.real_llm
@pytest.mark.timeout(900)
def test_the_issues_follow_up_is_answered_with_altmans_reply_by_the_real_model(real) -> None:
    """"How did Altman respond?" after the question about Musk's offer: the 1.5B model's rewrite restated
    the offer ("What did Sam Altman … do when Elon Musk offered him $97.4 billion…?") and the answer was
    the offer sentence alone. Its first bullet is now the sarcastic reply, in English."""
    chain = build_chain(real)
    first = "How much did Musk's group offer to buy OpenAI?"
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": chain.ask(first).answer}]
    answer = chain.ask("How did Altman respond?", history)
    assert not answer.refused, answer.answer
    _valid(answer)
    assert "讽刺" in answer.citations[0].quote or "Twitter" in answer.citations[0].quote, answer.citations[0].quote
    assert "Twitter" in answer.answer.split("\n")[0] and detect_language(answer.answer) == "en", answer.answer


@pytest.mark.real_llm
@pytest.mark.timeout(900)
def test_four_questions_at_once_each_get_their_own_answer(real) -> None:
    chain = build_chain(real)
    questions = ["Why did Musk leave OpenAI?", "马斯克出价多少收购OpenAI？",
                 "How much of OpenAI does Microsoft own?", "Character.ai 在和哪些公司洽谈合作？"]
    results: dict[str, object] = {}
    barrier = threading.Barrier(len(questions))

    def ask(q: str) -> None:
        barrier.wait()
        try:
            results[q] = chain.ask(q)
        except Exception as exc:  # noqa: BLE001 - asserted below
            results[q] = exc

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(800)
    assert set(results) == set(questions)
    for q, answer in results.items():
        assert isinstance(answer, Answer), (q, answer)
        assert answer.question == q and answer.language == ("zh" if any("\u4e00" <= c <= "\u9fff" for c in q) else "en")
        if not answer.refused:
            _valid(answer)
            assert {p.chunk_id for p in answer.passages} >= {c.chunk_id for c in answer.citations}
    assert len({a.answer for a in results.values() if isinstance(a, Answer) and not a.refused}) > 1


def _chat(base_url: str, messages: list[dict], max_tokens: int = 8) -> dict:
    body = json.dumps({"messages": messages, "max_tokens": max_tokens, "temperature": 0}).encode()
    req = urllib.request.Request(f"{base_url}/v1/chat/completions", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


@pytest.mark.real_llm
@pytest.mark.timeout(900)
def test_one_loopback_server_per_process_with_the_prefix_cache_on(real) -> None:
    first, second = build_chain(real), build_chain(real)
    config = first.llm.server
    assert first.llm.client().openai_api_base == second.llm.client().openai_api_base  # the same server
    base_url = embedded_llm.start(config)
    assert base_url.startswith("http://127.0.0.1:")
    system = {"role": "system", "content": "You answer questions about news articles. " * 40}
    _chat(base_url, [system, {"role": "user", "content": "Say yes."}])
    again = _chat(base_url, [system, {"role": "user", "content": "Say no."}])
    cached = (again["usage"].get("prompt_tokens_details") or {}).get("cached_tokens", 0)
    # The ~290-token shared prefix was not processed again: only the differing user turn was.
    assert again["usage"]["prompt_tokens"] > 250 and cached >= again["usage"]["prompt_tokens"] - 16, again["usage"]


@pytest.mark.real_llm
@pytest.mark.timeout(900)
def test_the_max_tokens_setting_caps_the_reply(real) -> None:
    capped = real.model_copy(update={"llama_max_tokens": 16})
    try:
        answer = build_chain(capped).ask("Why did Musk leave OpenAI?")
        calls = MAX_RESTATED + 1  # the one-token check, then one capped call per restated sentence
        assert answer.usage is None or answer.usage.output_tokens <= 16 * calls
        assert answer.incomplete or answer.refused or answer.usage.output_tokens < 16 * calls
    finally:
        embedded_llm.stop(answerer.server_config("", capped.model_options()))


@pytest.mark.real_llm
@pytest.mark.timeout(900)
def test_a_dead_server_is_a_one_line_error(real) -> None:
    chain = build_chain(real.model_copy(update={"max_retries": 0}))
    chain.llm.client()  # running, and the client points at it
    embedded_llm.stop(chain.llm.server)  # the server goes away under the app
    with pytest.raises(ModelError) as err:
        chain.ask("Why did Musk leave OpenAI?")
    message = str(err.value)
    assert "cannot reach the model" in message and "\n" not in message


@pytest.mark.real_llm
@pytest.mark.timeout(900)
def test_the_app_sidebar_shows_the_model_loading_then_ready(real, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    embedded_llm.stop_all()  # a cold start, as on a fresh app server
    for name, value in {"RAG_CHAT_MODEL": real.chat_model, "RAG_MODELS_DIR": str(real.models_dir),
                        "RAG_PERSIST_DIR": str(real.persist_dir), "RAG_SEEDS_DIR": str(real.seeds_dir),
                        "RAG_TIMEOUT": "600"}.items():
        monkeypatch.setenv(name, value)
    sys.path.insert(0, str(ROOT))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
    assert not at.exception, at.exception
    first = " ".join(c.value for c in at.sidebar.caption)
    assert "loading" in first or "ready" in first, first  # "ready" only if it loaded before the sidebar ran
    at.chat_input[0].set_value("Why did Musk leave OpenAI?").run()  # waits for the model, then answers
    assert not at.exception, at.exception
    last = at.session_state["messages"][-1]
    assert "answer" in last, last  # an error reply says why
    answer = last["answer"]
    assert answer.model.startswith("local") and not answer.refused
    assert "ready" in " ".join(c.value for c in at.sidebar.caption)
