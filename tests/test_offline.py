"""The network stays closed: tiktoken, Chroma and Streamlit are configured to need nothing from it."""

from __future__ import annotations

import socket
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_guard_blocks_outside_connections() -> None:
    from netguard import NetworkBlocked

    with pytest.raises(NetworkBlocked):
        socket.create_connection(("93.184.216.34", 443), timeout=1)


def test_tiktoken_loads_from_the_bundled_files_with_no_network(tmp_path: Path, monkeypatch) -> None:
    import tiktoken

    from rag import tokens

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tk"))
    tokens.encoding.cache_clear()
    tiktoken.registry.ENCODINGS.clear()
    assert tokens.count_tokens("马斯克为什么离开OpenAI？") > 0
    assert len(list((tmp_path / "tk").iterdir())) == 2
    tokens.encoding.cache_clear()


def test_chroma_has_telemetry_off_and_never_builds_its_default_embedder(tmp_path: Path, monkeypatch) -> None:
    from chromadb.utils import embedding_functions

    def boom(*a, **k):
        raise AssertionError("Chroma's default (downloading) embedding function was used")

    monkeypatch.setattr(embedding_functions.DefaultEmbeddingFunction, "__call__", boom)
    monkeypatch.setattr(embedding_functions.ONNXMiniLM_L6_V2, "__call__", boom, raising=False)
    from rag.config import Settings
    from rag.factory import build_chain, ensure_ingested, open_store
    from rag.ingest.run import run_ingest

    settings = Settings(_env_file=None, persist_dir=tmp_path / "c", seeds_dir=ROOT / "seeds")
    index = open_store(settings)
    assert index.client.get_settings().anonymized_telemetry is False
    small = tmp_path / "s"
    small.mkdir()
    (small / "a.txt").write_text((ROOT / "seeds" / "004_8dfb9935f69a8e59.txt").read_text())
    run_ingest(index, [small])
    assert build_chain(settings, index).ask("马斯克出价多少收购OpenAI？").citations
    del ensure_ingested


def test_streamlit_usage_stats_are_off() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["headless"] is True


def test_langsmith_tracing_is_not_on_by_default() -> None:
    import os

    assert os.environ.get("LANGSMITH_TRACING", "false").lower() != "true"
