"""The app in a real headless Chromium: ask a question, see a cited answer, save a screenshot.

Starts ``streamlit run app.py`` on a free loopback port over the session's seeds
index (offline extractive answerer), drives Debian's ``/usr/bin/chromium``
with Playwright for Python (its own browser download is never used), waits
for the answer and a source card, writes ``test-artifacts/chat.png`` (and
the start-up/answer times in ``browser-timings.json``) at the repo root, and stops
the server by the pid that holds the port. It records every request the page
makes (all must go to the app's own host: no external favicon, font or script)
and checks that a bare URL in a message is not a link. A second test opens several browser
sessions on one server and asks different questions at once: each session must
show its own question's answer and sources, the same as the chain gives alone. A third
clicks Stop while a slow model (a scripted OpenAI-compatible server) streams: the answer
so far is kept and marked stopped, the model's stream is cut, and the chat goes on.
Skipped, with the reason, where Chromium or Playwright is missing.
What it leaves out: everything AppTest covers (``test_app.py``).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from rag.bench.app_server import app_cwd, streamlit_server
from rag.bench.app_start import CHROMIUM, CHROMIUM_ARGS
from ui.render import _spans

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
QUESTION = "Why did Musk leave OpenAI?"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.server,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"),
]


def _server_args(seeds_index_dir: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    cwd = app_cwd(ROOT / "app.py", tmp_path / "run")
    return cwd, {**os.environ, "RAG_PERSIST_DIR": str(seeds_index_dir), "RAG_SEEDS_DIR": str(ROOT / "seeds")}


def _own_host(url: str) -> bool:
    """A request the page may make: to the app's own server, or no host at all (data:, blob:)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname in ("127.0.0.1", "localhost")


def test_chat_in_a_real_browser(seeds_index_dir: Path, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python (pip install playwright)")
    cwd, env = _server_args(seeds_index_dir, tmp_path)
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
        requests: list[str] = []
        browser.on("request", lambda request: requests.append(request.url))
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
            # Bare URLs in text stay plain text: the only links in a message are sources' own URLs.
            box.fill(f"{QUESTION} See https://evil.example/login or www.evil.example, mail x@evil.example")
            box.press("Enter")
            sync_api.expect(page.get_by_test_id("stChatMessage")).to_have_count(4, timeout=60_000)
            page.get_by_text("evil.example/login", exact=False).first.wait_for(timeout=30_000)
            hrefs = page.locator("[data-testid=stChatMessage] a").evaluate_all("els => els.map(e => e.href)")
            assert not [h for h in hrefs if "evil.example" in h], hrefs
            page.wait_for_load_state("networkidle")
        finally:
            browser.close()
    assert requests and all(_own_host(u) for u in requests), [u for u in requests if not _own_host(u)]
    assert (ARTIFACTS / "chat.png").stat().st_size > 10_000
    (ARTIFACTS / "browser-timings.json").write_text(json.dumps(timings, indent=1), encoding="utf-8")


SESSIONS = ["Why did Musk leave OpenAI?", "微软持有OpenAI多少股份？", "What did Altman say about Musk's bid?",
            "马斯克为什么离开OpenAI？"]


def test_several_browser_sessions_at_once_each_get_their_own_answer(seeds_index_dir: Path, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python (pip install playwright)")
    from rag.config import Settings
    from rag.factory import build_chain

    cwd, env = _server_args(seeds_index_dir, tmp_path)
    chain = build_chain(Settings(persist_dir=seeds_index_dir, seeds_dir=ROOT / "seeds", _env_file=None))
    alone = {q: chain.ask(q) for q in SESSIONS}  # what each question gets with nobody else asking
    with streamlit_server(ROOT / "app.py", cwd, env, tmp_path / "server.log") as url, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            pages = [browser.new_context().new_page() for _ in SESSIONS]  # one Streamlit session each
            boxes = []
            for page in pages:
                page.goto(url, wait_until="domcontentloaded")
                boxes.append(page.get_by_test_id("stChatInputTextArea"))
                boxes[-1].wait_for(timeout=120_000)
            for box, question in zip(boxes, SESSIONS, strict=True):
                box.fill(question)
            for box in boxes:  # all questions in flight together
                box.press("Enter")
            for page, question in zip(pages, SESSIONS, strict=True):
                expected = alone[question]
                page.get_by_text(re.compile(r"^extractive · \d+\.\d\d s$")).first.wait_for(timeout=120_000)
                messages = page.get_by_test_id("stChatMessage")
                shown = messages.all_inner_texts()
                assert len(shown) == 2 and question in shown[0], shown
                cited = sorted(expected.cited_passages, key=lambda p: p.n)
                # st.html cards can land in the DOM a moment after the text around them
                sync_api.expect(page.locator(".source-card")).to_have_count(len(cited), timeout=60_000)
                titles = [card.split("\n")[0] for card in page.locator(".source-card").all_inner_texts()]
                assert titles == [f"[{p.n}] {p.title}" for p in cited], (
                    question, shown[1], expected.answer)
                marks = [p.text[a:b] for p in cited for a, b in _spans(p, [c for c in expected.citations if c.n == p.n])]
                assert page.locator(".source-card mark").all_inner_texts() == marks
                assert page.get_by_test_id("stException").count() == 0
        finally:
            browser.close()


SLOW_ANSWER = "Musk left the board in 2018 over a conflict of interest with Tesla's self-driving work [1]. " * 12


def _slow_for_the_first_question(body: dict) -> dict:
    """A model that streams the first question's answer slowly (0.25 s a piece) and others at once."""
    last = body["messages"][-1]["content"]
    return {"text": SLOW_ANSWER, "piece_delay": 0.25} if QUESTION in last else {"text": "Altman declined [1]."}


def test_stop_ends_a_running_answer_and_keeps_what_came(seeds_index_dir: Path, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python (pip install playwright)")
    from openai_server import ScriptedOpenAI

    cwd, env = _server_args(seeds_index_dir, tmp_path)
    with ScriptedOpenAI() as model:
        model.default = _slow_for_the_first_question
        env |= {"RAG_CHAT_MODEL": "openai:gpt-4o-mini", "OPENAI_BASE_URL": model.base_url,
                "OPENAI_API_KEY": "sk-test", "RAG_GENERATION": "synthesis"}
        with (streamlit_server(ROOT / "app.py", cwd, env, tmp_path / "server.log") as url,
              sync_api.sync_playwright() as pw):
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(url, wait_until="domcontentloaded")
                box = page.get_by_test_id("stChatInputTextArea")
                box.wait_for(timeout=120_000)
                box.fill(QUESTION)
                box.press("Enter")
                page.locator(".source-card").first.wait_for(timeout=60_000)  # the evidence, before the answer
                page.get_by_text("Musk left the board", exact=False).first.wait_for(timeout=30_000)
                stop = page.get_by_role("button", name="Stop")
                stop.click()
                page.get_by_text("Stopped · 已停止").wait_for(timeout=10_000)
                sync_api.expect(stop).to_have_count(0)
                kept = page.get_by_test_id("stChatMessage").nth(1).inner_text()
                assert "Musk left the board" in kept and kept.count("Musk left the board") < 12, kept
                deadline = time.monotonic() + 5  # the model's stream is cut, not left to run to the end
                while not model.dropped and time.monotonic() < deadline:
                    time.sleep(0.1)
                assert model.dropped and model.dropped[0] < len(SLOW_ANSWER) // 7, model.dropped
                box.fill("What did Altman say about Musk's bid?")  # the conversation goes on
                box.press("Enter")
                page.get_by_text("Altman declined", exact=False).first.wait_for(timeout=60_000)
                messages = page.get_by_test_id("stChatMessage")
                sync_api.expect(messages).to_have_count(4)
                assert "Stopped · 已停止" in messages.nth(1).inner_text()
                assert page.get_by_test_id("stException").count() == 0
            finally:
                browser.close()
