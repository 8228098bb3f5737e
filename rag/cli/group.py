"""The click classes of every ``rag`` command: one error rule, and subcommands imported on demand.

``RagCommand`` and ``RagGroup`` turn a ``RagError`` raised anywhere in the
command into one line, ``error: <message>`` on stderr (secrets redacted,
terminal escapes removed), and exit code 2; this is the only place that rule
is written. ``LazyGroup`` is a ``RagGroup`` whose subcommands named in
``lazy`` (``name -> Lazy("module:attribute", summary)``) are imported the
first time they are run or asked for ``--help``; until then ``rag --help``
lists them by their summary, so it imports neither chromadb, langchain nor
xllamacpp. What it leaves out: the commands themselves.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import click

from rag.errors import RagError
from rag.redact import redact

EXIT_USAGE = 2


def _guarded(invoke: Callable[[click.Context], Any], ctx: click.Context) -> Any:
    try:
        return invoke(ctx)
    except RagError as exc:
        from rag.cli.terminal import echo  # only when there is an error to print

        echo(f"error: {redact(str(exc))}", err=True)
        ctx.exit(EXIT_USAGE)


class RagCommand(click.Command):
    """A command whose ``RagError`` is one ``error:`` line and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        return _guarded(super().invoke, ctx)


class RagGroup(click.Group):
    """A group whose ``RagError`` (its own or a subcommand's) is one ``error:`` line and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        return _guarded(super().invoke, ctx)


@dataclass(frozen=True)
class Lazy:
    target: str  # "package.module:attribute", a click command
    summary: str  # its short help, shown by the parent's --help without importing it


class LazyGroup(RagGroup):
    """A ``RagGroup`` that imports the subcommands in ``lazy`` only when one is used."""

    def __init__(self, *args: Any, lazy: Mapping[str, Lazy] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            self.add_command(self.load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def load(self, name: str) -> click.Command:
        module, _, attribute = self.lazy[name].target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy[name].target} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands section, as click writes it, without importing the lazy commands."""
        names = [n for n in self.list_commands(ctx) if n in self.lazy or not self.commands[n].hidden]
        if not names:
            return
        limit = formatter.width - 6 - max(map(len, names))
        shown = {n: self.commands.get(n) or click.Command(n, help=self.lazy[n].summary) for n in names}
        rows = [(n, command.get_short_help_str(limit)) for n, command in shown.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
