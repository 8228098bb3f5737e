"""The parts a ``rag`` command works on: settings, the store and the chain, as the app builds them.

``settings`` is ``rag.config.load_settings`` (a bad value: one ``SettingsError``
line). ``open_index`` opens the store and, on first use, ingests the seeds with
a progress bar on stderr. ``chain`` builds the chain over it and says once, on
stderr, when the answerer is not the one the user might expect. What it leaves
out: the commands, and how parts are built (``rag.factory``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rag.cli.terminal import echo, progress_bar

if TYPE_CHECKING:
    from rag.answer.chain import RagChain
    from rag.config import Settings
    from rag.store.index import Index


def settings(**overrides: Any) -> Settings:
    from rag.config import load_settings

    return load_settings(**overrides)


def open_index(settings: Settings) -> Index:
    """The store, built from the seeds on first use."""
    from rag.factory import ensure_ingested, open_store

    index = open_store(settings)
    if not index.count():
        echo("No index yet: ingesting the articles first.", err=True)
        with progress_bar("Ingesting") as progress:
            report = ensure_ingested(index, settings, progress)
        if report:
            echo(report.summary(), err=True)
    return index


def chain(settings: Settings) -> RagChain:
    """The chain over the store; says once, on stderr, when the answerer is not the one the user might expect."""
    from rag.factory import answerer_status, build_chain

    built = build_chain(settings, open_index(settings))
    status = answerer_status(settings)
    if status.notice and status.state != "loading":
        echo(f"Note: {status.message}", err=True)
    return built
