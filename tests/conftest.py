"""Shared fixtures: no network for any test, a temp project, and a real Chroma index of the seeds.

The network guard is installed at import time (before any test module imports
a library that might phone home) and also exported to subprocesses through
PYTHONPATH. The seeds index is built once per session in a temp directory and
copied for tests that write to it.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))
sys.path.insert(1, str(ROOT))  # the app's own packages (ui, app_pages), as `streamlit run app.py` sees them

import netguard  # noqa: E402

netguard.install()
_SITE = str(TESTS / "netguard_site")
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_SITE, os.environ.get("PYTHONPATH")) if p)
# No test reads the developer's .env or keys.
for _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CHROMA_HOST", "RAG_CHAT_MODEL", "RAG_EMBEDDING_MODEL"):
    os.environ.pop(_var, None)
# The default answerer (`auto`) would start the embedded model wherever models/ holds it (CI fetches it);
# tests that mean the default say chat_model="auto" (tests/test_embedded_llm.py).
os.environ["RAG_CHAT_MODEL"] = "extractive"
os.environ["LANGCHAIN_TRACING_V2"] = "false"
os.environ["LANGSMITH_TRACING"] = "false"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ.setdefault("OMP_NUM_THREADS", "2")

SEEDS = ROOT / "seeds"


@pytest.fixture(autouse=True)
def _network_stays_blocked() -> None:
    assert netguard.installed(), "the network guard was removed"


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run each test from an empty directory so no developer .env is read."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def seeds_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Chroma store of the seeds, built once with the offline embedder."""
    from rag.config import Settings
    from rag.factory import ensure_ingested, open_store

    path = tmp_path_factory.mktemp("seeds-index") / "chroma"
    index = open_store(Settings(persist_dir=path, seeds_dir=SEEDS, _env_file=None))
    ensure_ingested(index, Settings(persist_dir=path, seeds_dir=SEEDS, _env_file=None))
    del index
    return path


@pytest.fixture
def index_dir(seeds_index_dir: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the seeds index."""
    target = tmp_path / "chroma"
    shutil.copytree(seeds_index_dir, target)
    return target


@pytest.fixture
def settings_factory(seeds_index_dir: Path):
    """Settings pointing at the shared seeds index (read-only use) unless overridden."""
    from rag.config import Settings

    def make(**overrides: object) -> Settings:
        values = {"persist_dir": seeds_index_dir, "seeds_dir": SEEDS, **overrides}
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture(scope="session")
def seeds_chain(seeds_index_dir: Path) -> Iterator[object]:
    """The offline chain over the seeds index, shared by read-only tests."""
    from rag.config import Settings
    from rag.factory import build_chain

    yield build_chain(Settings(persist_dir=seeds_index_dir, seeds_dir=SEEDS, _env_file=None))
