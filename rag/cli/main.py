"""The ``rag`` command line: ingest, ask, chat, timeline, eval, bench, model.

Each command reads settings through ``rag.config.load_settings`` (environment
and ``.env``), builds the same chain the app uses (``rag.cli.parts``), and
prints either text for people or JSON for programs. Every ``RagError``
becomes ``error: <message>`` on stderr and exit code 2 (``rag.cli.group``); no
traceback reaches the user. Errors go through ``rag.redact`` (no secret is
printed) and everything goes through ``rag.cli.terminal`` (no escape sequence
reaches the terminal). ``timeline``, ``eval``, ``bench`` and ``model`` are
real subcommands imported only when used, and the commands here import the
pipeline only when they run, so ``rag --help`` is fast. What it leaves out:
the evaluation, the benchmark and model downloads (their own packages).
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import click

from rag.cli import parts
from rag.cli.group import EXIT_USAGE, Lazy, LazyGroup
from rag.cli.news import filter_options
from rag.cli.terminal import ECHO_CHARS, ask_stream, echo, print_answer, progress_bar, stdin_lines
from rag.errors import InputError, RagError
from rag.redact import redact
from rag.retrieval.filters import make_filters

LAZY = {
    "timeline": Lazy("rag.cli.news:timeline",
                     "The dated events the articles report about TOPIC, oldest first, each cited."),
    "eval": Lazy("rag.evaluation.command:eval_command",
                 "Score the chatbot on the gold datasets and write report.json, report.md and report.html."),
    "bench": Lazy("rag.bench.command:bench_command",
                  "Measure ingest, retrieval, answers, start-up and memory as the corpus grows."),
    "model": Lazy("rag.llm.command:model_command",
                  "Fetch and list local GGUF chat models (the default answerer, or RAG_CHAT_MODEL=local:<path>)."),
}


@click.group(cls=LazyGroup, lazy=LAZY)
@click.version_option(package_name="rag-news-chat")
def main() -> None:
    """Ask questions about news articles in English or Chinese, with cited answers.

    \b
    Examples:
      rag ingest                       # index the articles in seeds/
      rag ask "Why did Musk leave OpenAI?"
      rag ask --json "马斯克为什么离开OpenAI？"
      rag ask --outlet 界面新闻 --since 2024-01-01 "Why did Musk leave OpenAI?"
      rag timeline "Musk and OpenAI"
      rag chat
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True, help="Let a file replace an indexed article of the same id from another path.")
def ingest(paths: tuple[Path, ...], replace: bool) -> None:
    """Add, update and remove articles in the index (only what changed is embedded).

    PATHS are files or directories (default: RAG_SEEDS_DIR, i.e. seeds/). Files
    deleted from a directory given here are removed from the index. An article id
    (the file's stem) belongs to one path: another file with that stem is refused
    unless --replace is given.

    \b
    Examples:
      rag ingest
      rag ingest seeds/ extra/new-article.md
      rag ingest --replace other/002_cf0a488ea6d0060a.md
    """
    from rag.factory import open_store
    from rag.ingest.run import run_ingest

    settings = parts.settings()
    targets = list(paths) or [Path(settings.seeds_dir)]
    if not paths and not targets[0].is_dir():
        raise RagError(f"the articles directory {targets[0]} does not exist; create it or set RAG_SEEDS_DIR")
    index = open_store(settings)
    with progress_bar("Ingesting") as progress:
        report = run_ingest(index, targets, progress, replace=replace)
    for err in report.errors:
        echo(f"error: {redact(err)}", err=True)
    echo(report.summary())
    if report.errors:
        sys.exit(EXIT_USAGE)


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the Answer object as JSON (one line).")
@click.option("-k", "k", type=click.IntRange(1, 50), default=None, help="Passages to retrieve (default RAG_K).")
@filter_options
def ask(question: str, as_json: bool, k: int | None, outlet: tuple[str, ...], since: str | None,
        until: str | None, lang: str | None) -> None:
    """Answer QUESTION with numbered citations. Use - to read questions from stdin.

    \b
    Examples:
      rag ask "Why did Musk leave OpenAI?"
      rag ask -k 8 "微软持有OpenAI多少股份？"
      rag ask --outlet 界面新闻 --since 2024-01-01 --until 2024-12-31 --lang zh "马斯克为什么离开OpenAI？"
      rag ask --json "马斯克为什么离开OpenAI？" | jq .citations
      printf 'Q1\\nQ2\\n' | rag ask --json -     # one JSON object per line
    """
    filters = make_filters(outlet, since, until, lang)
    settings = parts.settings()
    chain = parts.chain(settings)
    if question != "-":
        if as_json:
            echo(chain.ask(question, k=k, filters=filters).model_dump_json())
        else:
            ask_stream(chain, question, [], k, live=sys.stdout.isatty(), filters=filters)
        return
    failed = False
    for n, line in enumerate(stdin_lines(), start=1):
        if line is not None and not line.strip():
            continue
        try:
            if line is None:
                raise InputError(f"line {n} of the input is not valid UTF-8; save the questions as UTF-8")
            answer = chain.ask(line.rstrip("\n"), k=k, filters=filters)
        except RagError as exc:
            failed = True
            if as_json:
                shown = line.strip() if line is not None else ""
                shown = shown if len(shown) <= ECHO_CHARS else shown[:ECHO_CHARS] + "…"
                echo(json.dumps({"question": shown, "error": redact(str(exc))}, ensure_ascii=False))
            else:
                echo(f"error: {redact(str(exc))}", err=True)
            continue
        if as_json:
            echo(answer.model_dump_json())
        else:
            echo(f"Q: {answer.question}")
            print_answer(answer, "")
            echo()
    if failed:
        sys.exit(EXIT_USAGE)


@main.command()
@click.option("-k", "k", type=click.IntRange(1, 50), default=None, help="Passages to retrieve (default RAG_K).")
@filter_options
def chat(k: int | None, outlet: tuple[str, ...], since: str | None, until: str | None, lang: str | None) -> None:
    """A conversation in the terminal; follow-up questions use the earlier turns.

    Type /new to start over, /quit (or Ctrl-D) to leave.

    \b
    Example:
      rag chat
      > Why did Musk leave OpenAI?
      > When did he leave?
    """
    filters = make_filters(outlet, since, until, lang)
    settings = parts.settings()
    chain = parts.chain(settings)
    mode = "offline extractive answers" if chain.extractive else f"model {chain.model_name}"
    echo(f"Ask about the articles ({mode}). /new starts over, /quit leaves.")
    history: list[dict[str, str]] = []
    with contextlib.suppress(AttributeError, ValueError, OSError):  # a bad line is then reported, not fatal
        sys.stdin.reconfigure(errors="surrogateescape")  # type: ignore[union-attr]
    while True:
        try:
            question = input("\n> ")
        except (EOFError, KeyboardInterrupt):
            echo()
            return
        except UnicodeDecodeError:
            question = "\udcff"
        if any("\udc80" <= ch <= "\udcff" for ch in question):  # undecodable bytes, kept by surrogateescape
            echo("error: that line is not valid UTF-8; type the question again", err=True)
            continue
        if question.strip() in ("/quit", "/exit"):
            return
        if question.strip() == "/new":
            history.clear()
            echo("New conversation.")
            continue
        if not question.strip():
            continue
        try:
            answer = ask_stream(chain, question, history, k, live=True, filters=filters)
        except RagError as exc:
            echo(f"error: {redact(str(exc))}", err=True)
            continue
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.answer}]


if __name__ == "__main__":
    main()
