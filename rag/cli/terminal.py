"""The CLI's terminal I/O: safe text out, answers for people, progress bars, stdin line by line.

Article text, file names and model output can carry ANSI/OSC escape sequences
(colours, cursor moves, window titles, hyperlinks, clipboard writes). ``printable``
drops whole CSI/OSC/other ESC sequences, then every remaining C0/C1 control
character and DEL, keeping newlines and tabs; ``echo`` prints through it, so no
line the CLI prints can drive the terminal. ``stdin_lines`` decodes stdin one
line at a time, so one line that is not UTF-8 is reported instead of ending the
run. Commands stay in ``rag.cli.main``, settings in ``rag.cli.parts``, errors-to-exit-codes in
``rag.cli.group``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from rag.dates import source_label
from rag.models import Answer, Evidence
from rag.text import detect_language

_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks, clipboard
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]"  # other two-character escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` without terminal escape sequences or control characters (newlines and tabs kept)."""
    return _CONTROLS.sub("", _SEQUENCES.sub("", text))


def echo(message: Any = None, **kwargs: Any) -> None:
    """``click.echo`` with terminal escape sequences and control characters removed."""
    click.echo(None if message is None else printable(str(message)), **kwargs)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int, str], None]]:
    """A click progress bar on stderr, fed by ``(done, total, name)`` callbacks."""
    bar: Any = None
    state = {"done": 0}

    def update(done: int, total: int, name: str) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=max(total, 1), label=label, file=sys.stderr, show_pos=True,
                                    item_show_func=lambda n: printable(n) if n else n)
            bar.__enter__()
        bar.update(done - state["done"], name)
        state["done"] = done

    try:
        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def format_sources(answer: Answer) -> str:
    lines = []
    for c in answer.citations:
        lines.append(f"[{c.n}] {c.title} — {source_label(c, answer.language)}  ({c.chunk_id})")
        lines.append(f"    “{c.quote}”")
        if c.url:
            lines.append(f"    {c.url}")
    return "\n".join(lines)


def print_answer(answer: Answer, streamed: str) -> None:
    if streamed and streamed.strip() != answer.answer.strip():
        echo("\n\nChecked answer (citation markers verified):")
        echo(answer.answer)
    elif not streamed:
        echo(answer.answer)
    else:
        echo()
    if answer.refused:
        return
    if answer.notice and answer.notice != "extractive":
        echo(f"\nNote: {answer.notice}")
    if answer.citations:
        echo("\nSources:\n" + format_sources(answer))


ECHO_CHARS = 200  # of a failed question, repeated in its JSON error line


def stdin_lines() -> Iterator[str | None]:
    """Lines of stdin decoded as UTF-8 one by one; None for a line that is not UTF-8."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # already text (click's test runner)
        yield from sys.stdin
        return
    for raw in stream:
        try:
            yield raw.decode("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8")
        except UnicodeDecodeError:
            yield None


def format_evidence(evidence: Evidence, language: str) -> str:
    """The evidence the answer is built from, shown before any answer text."""
    by_n = {p.n: p for p in evidence.passages}
    lines = ["Evidence:" if language == "en" else "证据："]
    for it in evidence.items:
        lines.append(f"[{it.n}] {source_label(by_n[it.n], language)} — “{it.sentence.text}”")
    return "\n".join(lines)


def ask_stream(
    chain: Any, question: str, history: list[dict], k: int | None, live: bool, filters: Any = None
) -> Answer:
    """Print the evidence as soon as retrieval is done, then the answer as it streams, then the sources."""
    streamed = ""
    answer: Answer | None = None
    for item in chain.stream({"question": question, "history": list(history), "k": k, "filters": filters}):
        if isinstance(item, Answer):
            answer = item
        elif isinstance(item, Evidence):
            if live and item.items:
                echo(format_evidence(item, detect_language(question)) + "\n")
        elif live:
            streamed += item
            echo(item, nl=False)
    assert answer is not None
    print_answer(answer, streamed)
    return answer
