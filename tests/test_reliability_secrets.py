"""Secrets and files: .env and the store are git-ignored, .env.example holds no values, uploads stay in the corpus.

Uploads are tested through ``ui.upload`` (the app's code path) with a stub
index, so only the file handling runs: names are reduced to a plain base name,
nothing lands outside the corpus directory, and size and type are limited
before anything is written.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from rag.config import Settings
from rag.ingest.documents import MAX_FILE_BYTES
from rag.errors import InputError
from rag.ingest.run import IngestReport
from ui import upload
from ui.upload import add_uploads, safe_filename

ROOT = Path(__file__).resolve().parent.parent
GOOD = b"# Port report\n\nThe port handled nine million containers last year, a record for the city.\n"
# Real-looking keys: a long random run (test fakes such as sk-test-SECRET-123456 have none).
KEY_LIKE = re.compile(r"(sk-[A-Za-z0-9_\-]*?[A-Za-z0-9]{32,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|AIza[0-9A-Za-z_\-]{30,})")


def git_ignored(path: str) -> bool:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", "--no-index", path],
                         capture_output=True, text=True, timeout=30, check=False)
    assert out.returncode in (0, 1), out.stderr
    return out.returncode == 0


@pytest.mark.parametrize("path", [".env", ".rag/chroma/chroma.sqlite3", ".rag/chroma/ingest.lock",
                                  ".rag/chroma/last_ingest.json", ".hypothesis/examples/x"])
def test_secrets_and_local_state_are_git_ignored(path: str) -> None:
    assert git_ignored(path), f"{path} is not git-ignored"


def test_the_default_store_is_git_ignored() -> None:
    persist = Path(Settings(_env_file=None).persist_dir).resolve()
    rel = persist.relative_to(ROOT)
    assert git_ignored(f"{rel}/chroma.sqlite3")
    assert not git_ignored(".env.example") and not git_ignored("rag/store/index.py")


def _example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"not KEY=value: {line!r}"
            values[key.strip()] = value.strip()
    return values


def test_env_example_holds_no_secret() -> None:
    values = _example()
    assert "OPENAI_API_KEY" in values and "CHROMA_AUTH_TOKEN" in values
    for key, value in values.items():
        if re.search(r"KEY$|TOKEN$|SECRET|PASSWORD", key):
            assert value == "", f"{key} has a value in .env.example"
        assert not KEY_LIKE.search(value), f"{key} looks like a real key"


def test_env_example_values_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAG_CHAT_MODEL", raising=False)  # conftest pins tests to extractive; compare the real default
    defaults = Settings(_env_file=None)
    for key, value in _example().items():
        if value:
            monkeypatch.setenv(key, value)
    example = Settings(_env_file=None)
    for name in Settings.model_fields:
        got, want = getattr(example, name), getattr(defaults, name)
        if isinstance(want, Path):
            got, want = (ROOT / got).resolve(), Path(want).resolve()
        assert got == want, f"{name}: .env.example says {got!r}, the default is {want!r}"


def test_a_copy_of_env_example_is_a_working_env() -> None:
    settings = Settings(_env_file=ROOT / ".env.example")
    assert settings.openai_api_key is None and settings.embed_threads is None and settings.chroma_host is None


def test_no_key_like_string_in_project_files() -> None:
    skip = {".git", ".venv", "node_modules", "test-artifacts", ".rag", ".pytest_cache", ".hypothesis"}
    for path in ROOT.rglob("*"):
        if (set(path.relative_to(ROOT).parts) & skip or not path.is_file() or path.suffix in (".sqlite3", ".bin")
                or path.stat().st_size > 2_000_000 or path.name == ".env"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        hit = KEY_LIKE.search(text)
        assert not hit, f"{path.relative_to(ROOT)} holds a key-like string {hit[0][:8]}…"


# ---- uploads ------------------------------------------------------------------------------


class StubIndex:
    """Only what ``add_uploads`` reads; ``stub_ingest`` records on it what it was asked to ingest."""

    def __init__(self) -> None:
        self.ingested: list[Path] = []

    def documents(self) -> list:
        return []


def stub_ingest(index: StubIndex, paths, progress=None) -> IngestReport:
    index.ingested += list(paths)
    return IngestReport(added=[p.stem for p in paths])


@pytest.fixture
def tree(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    monkeypatch.setattr(upload, "run_ingest", stub_ingest)
    seeds = tmp_path / "project" / "seeds"
    seeds.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.md").write_bytes(b"original outside file")
    return seeds, outside


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()}


@pytest.mark.parametrize(
    "name, saved",
    [
        ("../../outside/target.md", "target.md"),
        ("..\\..\\outside\\target.md", "target.md"),
        ("/etc/cron.d/evil.md", "evil.md"),
        ("C:\\Windows\\system32\\evil.md", "evil.md"),
        (".hidden.md", "hidden.md"),
        ("a/../../b.md", "b.md"),
        ("新闻 稿.MD", "新闻_稿.md"),
        ("ｆｕｌｌｗｉｄｔｈ．ｍｄ", "fullwidth.md"),
        ("a\x00b\nc.md", "a_b_c.md"),
    ],
)
def test_upload_names_become_plain_names_inside_the_corpus(tree, tmp_path: Path, name: str, saved: str) -> None:
    seeds, outside = tree
    before = files_under(tmp_path)
    index = StubIndex()
    outcomes, _ = add_uploads([(name, GOOD)], seeds, index)
    assert [o.ok for o in outcomes] == [True], outcomes
    assert index.ingested == [seeds / saved] and (seeds / saved).read_bytes() == GOOD
    assert files_under(tmp_path) - before == {f"project/seeds/{saved}"}
    assert (outside / "target.md").read_bytes() == b"original outside file"


@pytest.mark.parametrize("name", ["evil.exe", "script.py", "page.php", "noext", "x.md.exe", "...", ".md", "x.pdf"])
def test_upload_types_are_limited(tree, name: str) -> None:
    seeds, _ = tree
    outcomes, report = add_uploads([(name, GOOD)], seeds, StubIndex())
    assert not outcomes[0].ok and report is None and files_under(seeds) == set()


def test_upload_size_is_limited_before_anything_is_written(tree) -> None:
    seeds, _ = tree
    outcomes, _ = add_uploads([("big.md", b"a" * (MAX_FILE_BYTES + 1)), ("ok.md", GOOD)], seeds, StubIndex())
    assert [o.ok for o in outcomes] == [False, True] and "over the 5 MB limit" in outcomes[0].message
    assert files_under(seeds) == {"ok.md"}


def test_upload_content_must_be_an_article(tree) -> None:
    seeds, _ = tree
    outcomes, _ = add_uploads([("fake.md", b"\x89PNG\r\n\x1a\n\x00\x00" * 50), ("empty.txt", b"")], seeds, StubIndex())
    assert not any(o.ok for o in outcomes) and files_under(seeds) == set()
    assert "binary" in outcomes[0].message and "empty" in outcomes[1].message


def test_upload_never_writes_through_a_link_out_of_the_corpus(tree) -> None:
    seeds, outside = tree
    (seeds / "evil.md").symlink_to(outside / "target.md")
    outcomes, _ = add_uploads([("evil.md", GOOD)], seeds, StubIndex(), replace=True)
    assert not outcomes[0].ok and (outside / "target.md").read_bytes() == b"original outside file"


def test_safe_filename_output_is_always_a_plain_base_name() -> None:
    for name in ("../x.md", "x/../../y.txt", "..\\..\\z.html", "~/.ssh/id.md", "%2e%2e%2fq.md", "a b\tc.md"):
        safe = safe_filename(name)
        assert "/" not in safe and "\\" not in safe and not safe.startswith(".") and ".." not in safe, safe
    with pytest.raises(InputError):
        safe_filename("../../etc/passwd")


def test_a_long_chinese_file_name_is_shortened_not_a_crash(tree) -> None:
    seeds, _ = tree
    outcomes, _ = add_uploads([("新闻" * 60 + ".md", GOOD)], seeds, StubIndex())
    assert outcomes[0].ok
    (saved,) = files_under(seeds)
    assert len(saved.encode()) <= 255 and saved.endswith(".md")
