"""A bounded, thread-safe memo of model outputs the chain reuses within one process.

The same question translated for cross-lingual search, and the same evidence sentence
translated for a reader (the Karpathy sentence answers many questions about Musk), cost a
model call each time, seconds on a laptop, and a small model's wording changes from call
to call. Kept here, a second asking is answered at once and reads the same. The oldest
entry goes first when ``size`` is reached. What it leaves out: what is worth keeping
(the callers decide) and anything across processes (nothing is written to disk).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

MEMO_SIZE = 1024  # entries: a few hundred sentences and questions, a few hundred kB


class Memo:
    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: Hashable, value: str) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
