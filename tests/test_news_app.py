"""The app's news parts through ``AppTest``: the "Sources disagree" box, dated source cards, sidebar filters, Timeline.

The real app over the session's seeds index with the offline extractive
answerer. What it leaves out: a real browser (``test_browser.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEEDS = ROOT / "seeds"
TIMEOUT = 120


@pytest.fixture(autouse=True)
def _app_env(monkeypatch: pytest.MonkeyPatch, seeds_index_dir: Path) -> None:
    monkeypatch.setenv("RAG_PERSIST_DIR", str(seeds_index_dir))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(SEEDS))


def _html(at: AppTest, cls: str) -> list[str]:
    return [h.value for h in at.get("html") if f'class="{cls}"' in h.value]


def test_disagreeing_sources_are_shown_side_by_side_and_every_card_is_dated() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.chat_input[0].set_value("马斯克给了OpenAI多少钱？").run()
    assert not at.exception, at.exception
    answer = at.session_state["messages"][-1]["answer"]
    [box] = _html(at, "sources-disagree")
    assert "各来源说法不一" in box and "超过4400万美元" in box and "4500万美元" in box and "马斯克称" in box
    cards = _html(at, "source-card")
    assert len(cards) == len(answer.cited_passages) >= 2
    for card, passage in zip(cards, sorted(answer.cited_passages, key=lambda p: p.n), strict=True):
        assert (passage.published or "未注明日期") in card


def test_sidebar_outlet_filter_reaches_retrieval() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    outlet = at.sidebar.multiselect(key="filters-outlet")
    assert "界面新闻" in outlet.options and "金色财经" in outlet.options
    outlet.set_value(["金色财经"]).run()
    at.chat_input[0].set_value("Why did Musk leave OpenAI?").run()
    assert not at.exception, at.exception
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.passages and {p.outlet for p in answer.passages} == {"金色财经"}


def test_timeline_page_lists_dated_events_with_sources() -> None:
    at = AppTest.from_file(str(ROOT / "app_pages" / "timeline.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    page = " ".join(at.get("html")[i].value for i in range(len(at.get("html"))))
    assert page.count('class="timeline-event"') >= 5
    for written in ("2015年", "2018年", "2月29日 (year not given)", "3月5日 (year not given)", "2月10日"):
        assert written in page
    assert "界面新闻 · no date given" in page and "002_cf0a488ea6d0060a#" in page
