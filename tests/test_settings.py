"""One settings loader: a bad value is one line and exit 2 in every command, one error on every page,
and nothing below ``rag.factory`` reads the environment.

The commands run through the real ``rag`` group (``CliRunner``; one in a real
process reading ``.env``); the pages through ``AppTest``. The environment check
reads the source (``ast``): every module ``rag.factory`` imports, directly or
not, function-local imports included.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from rag.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
FIX = "; fix it in the environment or .env"


@pytest.mark.parametrize(
    "args, env, line",
    [
        (["ingest"], {"RAG_K": "abc"}, "RAG_K must be an integer (got 'abc')"),
        (["ask", "Why did Musk leave OpenAI?"], {"RAG_TIMEOUT": "soon"}, "RAG_TIMEOUT must be a number (got 'soon')"),
        (["chat"], {"RAG_GENERATION": "maybe"},
         "RAG_GENERATION must be one of auto, restate, synthesis (got 'maybe')"),
        (["timeline", "Musk"], {"RAG_CANDIDATES": "1"}, "RAG_CANDIDATES must be at least 5 (got '1')"),
        (["eval", "--limit", "1"], {"RAG_K": "abc"}, "RAG_K must be an integer (got 'abc')"),
        (["bench", "--scale", "0.1"], {"RAG_SIGNALS": "vectors"},
         "RAG_SIGNALS must be a comma-separated list of dense, sentence, keyword, centred (got 'vectors')"),
        (["model", "list"], {"RAG_K": "abc"}, "RAG_K must be an integer (got 'abc')"),
        (["model", "fetch", "qwen2.5-1.5b"], {"RAG_LLAMA_CTX": "big"}, "RAG_LLAMA_CTX must be an integer (got 'big')"),
        (["model", "speed"], {"RAG_CHUNK_TOKENS": "100", "RAG_OVERLAP_TOKENS": "100"},
         "RAG_OVERLAP_TOKENS (100) must be smaller than RAG_CHUNK_TOKENS (100)"),
        (["ask", "hi"], {"CHROMA_PORT": "eighty"}, "CHROMA_PORT must be an integer (got 'eighty')"),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2_in_every_command(args, env, line) -> None:
    result = CliRunner().invoke(main, args, env=env, input="")
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    assert result.stderr == f"error: {line}{FIX}\n" and result.stdout == ""


def test_a_bad_setting_in_dotenv_is_the_same_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("RAG_K=abc\n")
    env = {k: v for k, v in os.environ.items() if k != "RAG_K"}
    out = subprocess.run([sys.executable, "-m", "rag.cli.main", "model", "list"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr == f"error: RAG_K must be an integer (got 'abc'){FIX}\n", out.stderr


@pytest.mark.parametrize("page", [None, "app_pages/corpus.py", "app_pages/timeline.py", "app_pages/eval_results.py"])
def test_every_page_shows_a_bad_setting_as_one_error(page, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_K", "abc")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    if page:
        at = at.switch_page(page).run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [f"RAG_K must be an integer (got 'abc'){FIX} and reload the page."]


# ---- nothing below the factory reads the environment ---------------------------------------------

# Reads that are not settings, each with its reason; anything else below the factory fails the test.
ALLOWED_READS = {
    ("rag.tokens", "XDG_CACHE_HOME"),  # where tiktoken's files are cached, not a setting of ours
    ("rag.tokens", "TIKTOKEN_CACHE_DIR"),  # tiktoken's own variable, honoured if the user set it
    ("rag.ingest.lock", "RAG_TEST_KILL_AT"),  # fault injection for the crash tests
    ("rag.ingest.lock", "RAG_TEST_PAUSE_AT"),
    ("rag.ingest.lock", "RAG_TEST_PAUSE_SECONDS"),
    ("rag.redact", "*"),  # every secret-looking value, to scrub it from messages
}
WRITES = {"setdefault", "pop", "update", "clear"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in (ROOT / "rag").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(tree: ast.AST, modules: dict[str, Path]) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rag"):
            names |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                      for a in node.names}
    return names & set(modules)


def below(module: str) -> set[str]:
    """Every project module ``module`` imports, directly or not (function-local imports too)."""
    modules = _modules()
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += _imports(ast.parse(modules[name].read_text(encoding="utf-8")), modules)
    return seen


def _key(node: ast.AST | None) -> str:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else "?"


def environment_reads(source: str) -> set[str]:
    """The variables ``source`` reads from ``os.environ``/``os.getenv`` ("*": the whole environment)."""
    tree = ast.parse(source)
    parent = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    reads = set()
    for node in ast.walk(tree):
        func = node.func if isinstance(node, ast.Call) else None
        if isinstance(func, ast.Attribute | ast.Name) and getattr(func, "attr", getattr(func, "id", "")) == "getenv":
            reads.add(_key(node.args[0] if node.args else None))
        environ = (isinstance(node, ast.Attribute) and node.attr == "environ") or (
            isinstance(node, ast.Name) and node.id == "environ")
        if not environ:
            continue
        up = parent.get(node)
        if isinstance(up, ast.Subscript):
            if isinstance(up.ctx, ast.Load):
                reads.add(_key(up.slice))
        elif isinstance(up, ast.Attribute):
            call = parent.get(up)
            if up.attr not in WRITES:
                reads.add(_key(call.args[0]) if isinstance(call, ast.Call) and call.args else "*")
        elif isinstance(up, ast.Compare):
            reads.add(_key(up.left))
        elif not isinstance(up, ast.ImportFrom):
            reads.add("*")  # handed on whole: dict(os.environ), {**os.environ}
    return reads


def test_the_environment_check_finds_reads_and_ignores_writes() -> None:
    source = """
import os
os.environ.get("OPENAI_API_KEY"); os.getenv("RAG_K"); os.environ["CHROMA_HOST"]
"RAG_X" in os.environ; dict(os.environ); os.environ.items()
os.environ["A"] = "1"; os.environ.setdefault("B", "2"); os.environ.pop("C", None)
"""
    assert environment_reads(source) == {"OPENAI_API_KEY", "RAG_K", "CHROMA_HOST", "RAG_X", "*"}
    assert environment_reads("import os\nos.environ['A'] = 'x'\n") == set()


def test_nothing_below_the_factory_reads_the_environment_or_settings() -> None:
    modules = _modules()
    closure = below("rag.factory")
    assert {"rag.llm.providers", "rag.llm.openai_chat", "rag.store.embeddings", "rag.answer.chain"} <= closure
    found = set()
    for name in closure - {"rag.config"}:
        source = modules[name].read_text(encoding="utf-8")
        found |= {(name, key) for key in environment_reads(source)}
        calls = {n.func.id for n in ast.walk(ast.parse(source))
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert not calls & {"Settings", "load_settings", "load_dotenv"}, name
    assert found <= ALLOWED_READS, sorted(found - ALLOWED_READS)


def test_settings_are_built_in_one_place() -> None:
    """Only ``rag.config`` builds ``Settings``; commands and pages call ``load_settings``."""
    builders = []
    for path in [*ROOT.glob("rag/**/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("app_pages/*.py"), ROOT / "app.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) == "Settings"
               for n in ast.walk(tree)):
            builders.append(path.relative_to(ROOT).as_posix())
    assert builders == ["rag/config.py"]
