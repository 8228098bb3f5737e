"""The fixed dev/test split of the gold cases, kept in ``evals/splits.toml``.

What it does: reads the file (``dev = [ids]``, ``test = [ids]``), says which
split a case id is in, and assigns new cases so that both splits stay
balanced within each stratum (answerable or not × follow-up or not × question
language × kind, the first of ``KINDS`` among the case's tags). Assigned cases never move: only ids not yet in the file are placed,
in sha256-of-id order, each to the split its stratum has fewer of (ties go to
the split given by the first hash byte's parity). ``python -m
rag.evaluation.splits`` adds the new cases of the default datasets to the file.

Tune on dev; report test. What it leaves out: running cases and totals.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from rag.errors import ConfigError
from rag.evaluation.toml_file import read_toml
from rag.evaluation.datasets import EvalCase

Split = Literal["dev", "test"]
SPLITS: tuple[Split, Split] = ("dev", "test")


# Case kinds kept balanced across the splits, most specific first: a case's kind is
# the first of these among its tags (or "" for none).
KINDS = ("latest", "conflict", "filter", "zh-hant", "headline", "publication-date", "date", "comparison",
         "zh-facts-en", "near-miss", "off-topic", "boilerplate-trap", "multi-article", "number")


def kind(case: EvalCase) -> str:
    return next((k for k in KINDS if k in case.tags), "")


def stratum(case: EvalCase) -> tuple[bool, bool, str, str]:
    return (case.answerable, bool(case.history), case.language, kind(case))


def _hash(case_id: str) -> bytes:
    return hashlib.sha256(case_id.encode("utf-8")).digest()


def load_splits(path: Path) -> dict[str, Split]:
    """case id → split; ``ConfigError`` on a bad file or an id listed in both splits."""
    raw = read_toml(path)
    if set(raw) - set(SPLITS) or not all(isinstance(raw.get(s, []), list) for s in SPLITS):
        raise ConfigError(f"{path}: expected only the lists 'dev = [...]' and 'test = [...]'")
    out: dict[str, Split] = {}
    for split in SPLITS:
        for case_id in raw.get(split, []):
            if case_id in out:
                raise ConfigError(f"{path}: case {case_id!r} is in both splits")
            out[str(case_id)] = split
    return out


def assign(cases: Iterable[EvalCase], existing: Mapping[str, Split]) -> dict[str, Split]:
    """``existing`` plus a split for every case not in it (see the module docstring)."""
    out: dict[str, Split] = dict(existing)
    todo = sorted((c for c in cases if c.id not in out), key=lambda c: _hash(c.id))
    by_case = {c.id: c for c in cases}
    counts: Counter[tuple[tuple[bool, bool, str, str], Split]] = Counter(
        (stratum(by_case[i]), s) for i, s in out.items() if i in by_case
    )
    for case in todo:
        key = stratum(case)
        dev, test = counts[(key, "dev")], counts[(key, "test")]
        split: Split = "dev" if dev < test else "test" if test < dev else SPLITS[_hash(case.id)[0] % 2]
        out[case.id] = split
        counts[(key, split)] += 1
    return out


def render(splits: Mapping[str, Split]) -> str:
    lines = [
        "# The fixed dev/test split of every gold case (rag/evaluation/splits.py).",
        "# Tune on dev, report test. Assigned cases never move; add new cases with",
        "#   python -m rag.evaluation.splits",
        "",
    ]
    for split in SPLITS:
        ids = sorted(i for i, s in splits.items() if s == split)
        lines.append(f"{split} = [")
        lines += [f'  "{i}",' for i in ids]
        lines.append("]")
    return "\n".join(lines) + "\n"


def main() -> None:
    from rag.evaluation.datasets import load_dataset
    from rag.evaluation.paths import DEFAULT_DATASETS, DEFAULT_SPLITS

    cases = [c for path in DEFAULT_DATASETS for c in load_dataset(path)]
    existing = load_splits(DEFAULT_SPLITS) if DEFAULT_SPLITS.exists() else {}
    updated = assign(cases, existing)
    DEFAULT_SPLITS.write_text(render(updated), encoding="utf-8")
    print(f"{DEFAULT_SPLITS}: {len(updated) - len(existing)} new case(s) assigned, {len(updated)} in all")


if __name__ == "__main__":
    main()
