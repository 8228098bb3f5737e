"""Time the Streamlit app from a cold ``streamlit run`` to its first cited answer, in a real headless Chromium.

Each run starts a fresh ``streamlit run app.py`` server (so models and the
index load as they would for a user: once, on the first page load) over an
already-built store, opens the page in Debian's ``/usr/bin/chromium`` through
Playwright for Python, asks one question and waits for the first source card.
It records four times per run: server spawn → health check, spawn → chat box
ready (start-up, including the ``st.cache_resource`` loads), Enter → the first
answer's text and timing line, and Enter → its first source card. The last is
the figure judged against the issue's target, since ``st.html`` cards can reach
the page later than the text.

The browser test (``tests/test_browser.py``) drives the app the same way with
the same Chromium flags. What it leaves out: AppTest timings (no browser, no
websocket), and any LLM: the answerer is the offline extractive one.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rag.bench import measure
from rag.bench.app_server import app_cwd, streamlit_server

ANSWER_FOOTER = re.compile(r"^extractive · \d+\.\d\d s$")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]


@dataclass
class AppStart:
    runs: int
    server_healthy_s: list[float] = field(default_factory=list)
    page_ready_s: list[float] = field(default_factory=list)
    answer_text_s: list[float] = field(default_factory=list)  # Enter → answer text and its timing line
    first_answer_s: list[float] = field(default_factory=list)  # Enter → its first source card (or the text, if refused)
    cited: list[bool] = field(default_factory=list)  # False: the answer was a refusal (tiny synthetic corpora)
    median_first_answer_s: float | None = None
    skipped: str | None = None  # why nothing was measured (no Chromium, no Playwright, no app.py)
    errors: list[str] = field(default_factory=list)


def _why_not(app: Path) -> str | None:
    if not app.exists():
        return f"no {app} (run the bench from the project directory)"
    if not CHROMIUM.exists():
        return f"no {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    return None


def _one_run(app: Path, env: dict[str, str], work: Path, question: str, result: AppStart) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    cwd = app_cwd(app, work / "app-cwd")
    t0 = time.perf_counter()
    with streamlit_server(app, cwd, env, work / "app-server.log") as url, sync_playwright() as pw:
        healthy = time.perf_counter() - t0
        browser = pw.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="chromium-profile-", dir=work),  # a fresh user data dir per run
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
        )
        try:
            page = browser.pages[0] if browser.pages else browser.new_page()
            page.goto(url, wait_until="domcontentloaded")
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for(timeout=120_000)
            ready = time.perf_counter() - t0
            box.fill(question)
            t1 = time.perf_counter()
            box.press("Enter")
            # every rendered answer (cited or refused) ends with "<model> · <seconds> s"; st.html
            # source cards can reach the DOM a moment later, so a cited answer is done at its first card
            page.get_by_text(ANSWER_FOOTER).first.wait_for(timeout=120_000)
            text_s = time.perf_counter() - t1
            cited = True
            try:
                page.locator(".source-card").first.wait_for(timeout=30_000)
            except PlaywrightTimeout:
                cited = False  # a refusal: no cards
            answered = time.perf_counter() - t1
        finally:
            browser.close()
    result.server_healthy_s.append(round(healthy, 3))
    result.page_ready_s.append(round(ready, 3))
    result.answer_text_s.append(round(text_s, 3))
    result.first_answer_s.append(round(answered, 3))
    result.cited.append(cited)


def app_first_answer(app: Path, store: Path, seeds: Path, env_base: dict[str, str], work: Path,
                     question: str, runs: int) -> AppStart:
    """``runs`` cold starts of the app over ``store``; never raises for a missing browser (says why instead)."""
    result = AppStart(runs=runs)
    if (why := _why_not(app)) is not None:
        result.skipped = why
        return result
    env = {**env_base, "RAG_PERSIST_DIR": str(store), "RAG_SEEDS_DIR": str(seeds), "RAG_CHAT_MODEL": "extractive"}
    env.pop("CHROMA_HOST", None)
    env.setdefault("PATH", os.environ.get("PATH", ""))
    for _ in range(runs):
        try:
            _one_run(app, env, work, question, result)
        except Exception as exc:  # noqa: BLE001 - a failed run is reported in the results, not raised
            result.errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
    result.median_first_answer_s = measure.percentile(result.first_answer_s, 50)
    return result
