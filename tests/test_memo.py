"""The chain's memo of model outputs: bounded, oldest out first, safe across threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from rag.answer.memo import Memo


def test_the_oldest_entry_goes_first_and_a_reused_one_stays() -> None:
    memo = Memo(size=2)
    memo.put("a", "1")
    memo.put("b", "2")
    memo.put("a", "1'")  # written again: now the newest
    memo.put("c", "3")
    assert (memo.get("a"), memo.get("b"), memo.get("c"), len(memo)) == ("1'", None, "3", 2)


def test_many_threads_writing_keep_the_bound() -> None:
    memo = Memo(size=50)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: memo.put(i, str(i)), range(1000)))
    assert len(memo) == 50 and memo.get(999) == "999"


def test_the_eval_keeps_no_memo_so_each_case_is_answered_as_if_asked_first(settings_factory) -> None:
    from rag.evaluation.runner import build_systems

    assert settings_factory().memo_size > 0  # the app keeps one
    assert build_systems(settings_factory(), baseline=False)["default"].memo.size == 0
