"""Paged reads of a Chroma collection: the one way the project reads every row.

``collection.get`` without a limit loads the whole collection at once, so
whole-collection reads go page by page (``limit``/``offset``, ``PAGE`` rows a
call; Chroma returns rows in the same order whatever the page size).
``pages`` yields Chroma's own page dicts, for callers that hand a page on whole
(copying into another collection); ``rows`` yields one row at a time. ``PAGE``
is also the batch size of writes (``rag.store.generations.upsert``). What it
leaves out: which collection or generation to read (``rag.store.index``), and
reads by id or filter of a few rows, which need no paging.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

PAGE = 2000

Row = tuple[str, dict[str, Any], dict[str, Any]]  # (id, metadata, the other fields asked for, by name)


def pages(
    collection: Any, include: Sequence[str], where: dict[str, Any] | None = None, size: int = PAGE
) -> Iterator[dict[str, Any]]:
    """Chroma ``get`` results of ``size`` rows (the last may be shorter) until every row matching ``where`` came."""
    offset = 0
    while True:
        page = collection.get(where=where, include=list(include), limit=size, offset=offset)
        if not page["ids"]:
            return
        yield page
        offset += len(page["ids"])


def rows(collection: Any, include: Sequence[str], where: dict[str, Any] | None = None) -> Iterator[Row]:
    """Every row as (id, metadata, {field: value} for each field in ``include``), read a page at a time."""
    for page in pages(collection, ["metadatas", *include], where):
        for i, row_id in enumerate(page["ids"]):
            yield row_id, page["metadatas"][i], {k: page[k][i] for k in include}
