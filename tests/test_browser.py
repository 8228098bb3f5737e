"""The app in a real headless Chromium: ask a question, see a cited answer, save a screenshot.

Starts ``streamlit run app.py`` on a free loopback port over the session's seeds
index (offline extractive answerer), drives Debian's ``/usr/bin/chromium``
with Playwright for Python (its own browser download is never used), waits
for the answer and a source card, writes ``test-artifacts/chat.png`` (and
the start-up/answer times in ``browser-timings.json``) at the repo root, and stops the server by the pid that holds the port. Skipped, with
the reason, where Chromium or Playwright is missing.
What it leaves out: everything AppTest covers (``test_app.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from rag.bench.app_server import streamlit_server
from rag.bench.app_start import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
QUESTION = "Why did Musk leave OpenAI?"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.server,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"),
]


def test_chat_in_a_real_browser(seeds_index_dir: Path, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python (pip install playwright)")
    cwd = tmp_path / "run"
    (cwd / ".streamlit").mkdir(parents=True)  # the project's config, without the developer's .env
    shutil.copy(ROOT / ".streamlit" / "config.toml", cwd / ".streamlit" / "config.toml")
    env = {**os.environ, "RAG_PERSIST_DIR": str(seeds_index_dir), "RAG_SEEDS_DIR": str(ROOT / "seeds")}
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "streamlit-server.log"

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with streamlit_server(ROOT / "app.py", cwd, env, log) as url, sync_api.sync_playwright() as pw:
        timings["server_healthy_s"] = time.perf_counter() - t0
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh user data dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1000},
        )
        try:
            page = browser.pages[0] if browser.pages else browser.new_page()
            page.goto(url, wait_until="domcontentloaded")
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for(timeout=60_000)
            timings["page_ready_s"] = time.perf_counter() - t0
            box.fill(QUESTION)
            t1 = time.perf_counter()
            box.press("Enter")
            page.locator(".source-card").first.wait_for(timeout=60_000)
            timings["first_answer_s"] = time.perf_counter() - t1
            assert page.get_by_test_id("stChatMessage").count() == 2
            assert page.locator(".source-card mark").count() >= 1  # the supporting sentence is highlighted
            assert page.get_by_test_id("stException").count() == 0
            page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "chat.png").stat().st_size > 10_000
    (ARTIFACTS / "browser-timings.json").write_text(json.dumps(timings, indent=1), encoding="utf-8")
