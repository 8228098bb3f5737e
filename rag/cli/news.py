"""The news parts of the command line: the filter options and ``rag timeline``.

``filter_options`` adds ``--outlet`` (repeatable), ``--since``, ``--until`` and
``--lang`` to a command (``ask``, ``chat``, ``timeline``); ``rag.retrieval.filters``
checks them. ``timeline`` prints the dated events about a topic, oldest first,
or the ``Timeline`` object as JSON. Settings and the store come from
``rag.cli.parts`` as for every other command; errors become ``error: …`` in
``rag.cli.group``. It imports the pipeline only when ``timeline`` runs (``rag
--help`` stays fast). What it leaves out: finding the events (``rag.answer.timeline``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from rag.cli.group import RagCommand

if TYPE_CHECKING:
    from rag.answer.timeline import Timeline

SIGN = {"en": "dated differently elsewhere:", "zh": "其他文章所述日期不同："}


def filter_options(command: Callable) -> Callable:
    """--outlet (repeatable), --since, --until, --lang: which articles retrieval may use."""
    options = [
        click.option("--outlet", multiple=True, help="Only this outlet (repeat for several), e.g. 界面新闻."),
        click.option("--since", default=None, metavar="YYYY-MM-DD", help="Only articles published on or after."),
        click.option("--until", default=None, metavar="YYYY-MM-DD", help="Only articles published on or before."),
        click.option("--lang", type=click.Choice(["en", "zh"]), default=None, help="Only passages in this language."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def format_timeline(result: Timeline) -> str:
    """The timeline for people: date as written · event sentence [n] · source · chunk id."""
    from rag.answer.timeline import date_text

    if not result.events:
        return ("文章中没有关于这个主题的带日期事件。" if result.language == "zh"
                else "The articles report no dated events about this topic.")
    head = (f"时间线：{result.topic}（由早到晚；日期照文章原文）" if result.language == "zh"
            else f"Timeline: {result.topic} (oldest first; dates as the articles write them)")
    lines = [head, ""]
    for e in result.events:
        c = e.citation
        lines.append(f"{date_text(e, result.language)}")
        if e.summary:
            lines.append(f"    {e.summary} [{c.n}]")
        lines.append(f"    {'“' + c.quote + '”' if e.summary else c.quote} [{c.n}]")
        lines.append(f"    {e.source} · {c.chunk_id} {c.span[0]}–{c.span[1]}")
        if e.dated_differently:
            lines.append(f"    ⚠ {SIGN[result.language]} " + "; ".join(e.other_dates))
    return "\n".join(lines)


@click.command(cls=RagCommand)
@click.argument("topic")
@click.option("--json", "as_json", is_flag=True, help="Print the Timeline object as JSON (one line).")
@click.option("-k", "k", type=click.IntRange(1, 100), default=None, help="Passages to search (default 40).")
@filter_options
def timeline(topic: str, as_json: bool, k: int | None, outlet: tuple[str, ...], since: str | None,
             until: str | None, lang: str | None) -> None:
    """The dated events the articles report about TOPIC, oldest first, each cited.

    Dates are shown as the articles write them; a date with no year stays without
    one. Events the articles date differently are marked.

    \b
    Examples:
      rag timeline "Musk and OpenAI"
      rag timeline --json "马斯克与OpenAI" | jq '.events[] | {date, iso, source}'
      rag timeline --outlet 界面新闻 "Musk and OpenAI"
    """
    from rag.answer.checks import check_question
    from rag.cli import parts
    from rag.factory import build_chain
    from rag.retrieval.filters import make_filters

    filters = make_filters(outlet, since, until, lang)
    topic = check_question(topic)
    settings = parts.settings()
    chain = build_chain(settings, parts.open_index(settings))
    result = chain.timeline(topic, k, filters)
    click.echo(result.model_dump_json() if as_json else format_timeline(result))
