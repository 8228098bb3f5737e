"""Bad files: each is ingested correctly or rejected with a one-line reason, and the rest still goes in.

One batch holds every kind of trouble the issue names (binary, invalid UTF-8,
GBK, empty, 50 MB, a 1 MB line, HTML with scripts, broken front matter, links
out of the corpus, names with spaces, Chinese or undecodable bytes) next to
good files; the good ones must be indexed and each bad one named in exactly
one error line. The CLI run checks the same through a real process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.ingest.chunking import chunk_document
from rag.config import Settings
from rag.ingest.documents import MAX_FILE_BYTES, load_document
from rag.errors import InputError
from rag.factory import build_chain, open_store
from rag.ingest.run import run_ingest
from rag.models import Document

GOOD_EN = "# Harbour ferry\n\nThe harbour ferry line reopened on Monday after repairs.\nTickets cost four dollars.\n"
GBK_ZH = "云南茶叶出口增长\n2024年云南普洱茶出口额达到3亿元，比去年增长百分之二十。\n当地茶农表示，冷链物流让茶叶保持新鲜。\n"
HTML = """<!doctype html><html><head><title>Port report</title>
<script>var evilScript = "PWNED"; document.write(evilScript)</script>
<style>.evilStyle { color: red }</style></head>
<body onload="evilHandler()"><p>The port handled nine million containers last year, a record.</p>
<SCRIPT type="module">evilModule()</SCRIPT><noscript>evilNoscript</noscript>
<p>Officials expect growth to slow in 2025.</p><script>evilUnclosed()
"""
MD = "# Chips\n\nThe chip plant in Arizona will open in 2026, the company said.\nIt will employ two thousand workers.\n"
BROKEN_FRONT = "---\ntitle: Broken front matter\nauthor: 'unterminated\n\nThe city council approved a new bike lane on Main Street.\n"
ONLY_FRONT = "---\ntitle: Nothing here\n---\n"
# Windows-1252 bytes that also decode as GB18030 (to "na飗e … r閟um閟"): they must not be read as Chinese.
LATIN1 = "Paris jobs\nThe na\xefve owner Zo\xeblla sent r\xe9sum\xe9s to Ren\xe9e Dubois in Paris this week.\n"
GBK_ONLY = "茅台营收创新高\n贵州茅台酒厂2023年营业收入达到一千五百亿元。\n当地酒厂表示，新的物流让销售更顺畅。\n"


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("TOP SECRET payroll figures for every employee of the firm.\n")
    # good files
    (corpus / "ferry.md").write_text(GOOD_EN)
    (corpus / "新闻 稿 2024.txt").write_text("云南茶叶出口增长\n" + GBK_ZH)
    (corpus / "gbk.txt").write_bytes(GBK_ONLY.encode("gbk"))
    (corpus / "page.html").write_text(HTML)
    (corpus / "chips.md").write_text(MD)
    (corpus / "broken_front.md").write_text(BROKEN_FRONT)
    (corpus / "utf16.txt").write_bytes(("\ufeff" + GOOD_EN.replace("ferry", "tram")).encode("utf-16-le"))
    (corpus / "utf16be.md").write_bytes(("\ufeff" + MD.replace("Arizona", "Ohio")).encode("utf-16-be"))
    (corpus / "latin1.txt").write_bytes(LATIN1.encode("cp1252"))  # invalid UTF-8: refused, not mojibake
    (corpus / "bad_bom.txt").write_bytes(b"\xff\xfe" + b"\x00\xd8" * 40)  # a lone surrogate
    # bad files
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (corpus / "invalid.txt").write_bytes(b"\xff\xfe\xfa\xfb not text \xff\xff\x81\x81 " * 50)
    (corpus / "empty.md").write_text("")
    (corpus / "only_front.md").write_text(ONLY_FRONT)
    with open(corpus / "big.txt", "wb") as f:  # 50 MB, sparse: costs no disk
        f.truncate(50 * 1024 * 1024)
    (corpus / "long_line.txt").write_text("word " * 210_000)  # ~1 MB, one line, no sentence end
    (corpus / "link_out.md").symlink_to(outside / "secret.md")
    (corpus / "linkdir").symlink_to(outside, target_is_directory=True)
    (corpus / "loop.md").symlink_to(corpus / "loop.md")
    (corpus / "dangling.md").symlink_to(corpus / "missing.md")
    os.mkfifo(corpus / "fifo.txt")
    (corpus / os.fsdecode(b"caf\xe9-latin1-name.txt")).write_text(GOOD_EN)
    (corpus / ".hidden").mkdir()
    (corpus / ".hidden" / "skip.md").write_text(GOOD_EN)
    (corpus / "folder.md").mkdir()
    return corpus


EXPECTED_ERRORS = {
    "binary.txt": "looks like a binary file",
    "invalid.txt": "UTF-16 byte-order mark but is not valid UTF-16",  # it starts with FF FE
    "latin1.txt": "not valid UTF-8 or GBK text; save it as UTF-8",
    "bad_bom.txt": "has a UTF-16 byte-order mark but is not valid UTF-16",
    "empty.md": "the file is empty",
    "only_front.md": "no article text left",
    "big.txt": "52.4 MB is over the 5 MB limit",
    "long_line.txt": "over the 200,000 limit",
    "link_out.md": "a link out of",
    "loop.md": "broken or looping link",
    "dangling.md": "broken or looping link",
    "fifo.txt": "not a regular file",
    "caf\ufffd-latin1-name.txt": "not valid UTF-8; rename",
}
GOOD = {"ferry", "新闻 稿 2024", "gbk", "page", "chips", "broken_front", "utf16", "utf16be"}


def test_every_bad_file_gets_one_line_and_the_rest_goes_in(batch: Path, tmp_path: Path, monkeypatch) -> None:
    real_open = Path.open

    def guarded_open(self: Path, *args, **kwargs):
        assert self.name != "big.txt", "the 50 MB file was opened"
        return real_open(self, *args, **kwargs)

    real_read_bytes = Path.read_bytes

    def guarded_read_bytes(self: Path) -> bytes:
        assert batch not in self.parents, f"read_bytes({self.name}) reads a corpus file unbounded"
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "open", guarded_open)
    monkeypatch.setattr(Path, "read_bytes", guarded_read_bytes)
    settings = Settings(_env_file=None, persist_dir=tmp_path / "chroma", seeds_dir=batch)
    index = open_store(settings)
    t0 = time.perf_counter()
    report = run_ingest(index, [batch])
    assert set(report.added) == GOOD
    for line in report.errors:
        assert "\n" not in line and len(line) < 300, line
    for name, reason in EXPECTED_ERRORS.items():
        hits = [e for e in report.errors if e.startswith(f"{name}: ")]
        assert len(hits) == 1 and reason in hits[0], (name, report.errors)
    assert len(report.errors) == len(EXPECTED_ERRORS), report.errors  # nothing else, nothing hidden
    assert time.perf_counter() - t0 < 120

    texts = " ".join(index.chunks.get()["documents"]) + " ".join(index.sentences.get()["documents"])
    assert "evil" not in texts and "PWNED" not in texts  # no script, style or handler text
    assert "nine million containers" in texts and "employ two thousand workers" in texts
    assert "TOP SECRET" not in texts  # links out of the corpus are not followed
    assert "贵州茅台酒厂2023年营业收入达到一千五百亿元" in texts  # GBK decoded
    assert "na\xefve" not in texts and "na赨e" not in texts  # Windows-1252: neither guessed nor mojibake
    assert "The harbour tram line reopened" in texts and "plant in Ohio" in texts  # UTF-16 with a BOM
    assert "bike lane on Main Street" in texts  # unterminated front matter read as body
    docs = {d.doc_id: d for d in index.documents()}
    assert docs["page"].title == "Port report" and docs["broken_front"].title == "Broken front matter"

    answer = build_chain(settings, index).ask("云南普洱茶出口额是多少？")
    assert "新闻 稿 2024" in {c.doc_id for c in answer.citations}  # a name with spaces and Chinese is cited


def test_cli_reports_bad_files_one_line_each_and_exits_2(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ferry.md").write_text(GOOD_EN)
    (corpus / "binary.txt").write_bytes(b"\x00\x01" * 100)
    (corpus / os.fsdecode(b"bad-\xff-name.md")).write_text(GOOD_EN)
    (corpus / "out.md").symlink_to("/etc/hostname")
    out = subprocess.run(
        [sys.executable, "-m", "rag.cli.main", "ingest", str(corpus)], capture_output=True, text=True, timeout=240,
        env={**os.environ, "RAG_PERSIST_DIR": str(tmp_path / "chroma")}, check=False,
    )
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3, out.stderr
    assert any("binary.txt: looks like a binary file" in e for e in errors)
    assert any("bad-\ufffd-name.md: the file name is not valid UTF-8" in e for e in errors)
    assert any("out.md: a link out of" in e for e in errors)
    assert "added 1," in out.stdout


def test_a_file_over_the_limit_is_refused_by_its_size_unread(tmp_path: Path, monkeypatch) -> None:
    big = tmp_path / "big.md"
    with open(big, "wb") as f:
        f.truncate(50 * 1024 * 1024)
    monkeypatch.setattr(Path, "open", lambda *a, **k: pytest.fail("opened"))
    t0 = time.perf_counter()
    with pytest.raises(InputError, match=r"^big.md: 52.4 MB is over the 5 MB limit$"):
        load_document(big)
    assert time.perf_counter() - t0 < 1


def test_a_file_that_grows_after_the_size_check_is_read_only_up_to_the_limit(tmp_path: Path, monkeypatch) -> None:
    grower = tmp_path / "grower.md"
    grower.write_text("small")
    real_open = Path.open
    read: list[int] = []

    class Spy:
        def __init__(self, handle) -> None:
            self.handle = handle

        def read(self, n: int = -1) -> bytes:
            read.append(n)
            return self.handle.read(n)

        def __enter__(self) -> Spy:  # noqa: PYI034
            return self

        def __exit__(self, *exc) -> None:
            self.handle.close()

    def open_after_growth(self: Path, *args, **kwargs) -> Spy:
        with real_open(self, "ab") as f:
            f.truncate(MAX_FILE_BYTES * 3)
        return Spy(real_open(self, *args, **kwargs))

    monkeypatch.setattr(Path, "open", open_after_growth)
    with pytest.raises(InputError, match="over the 5 MB limit"):
        load_document(grower)
    assert read == [MAX_FILE_BYTES + 1]


def test_a_one_megabyte_single_line_is_refused_fast(tmp_path: Path) -> None:
    for name, text in (("a.txt", "word " * 210_000), ("b.txt", "马斯克离开了公司" * 45_000),
                       ("c.txt", "Musk left OpenAI in 2018. " * 40_000)):
        path = tmp_path / name
        path.write_text(text)
        t0 = time.perf_counter()
        with pytest.raises(InputError, match="limit for one article; split the file"):
            load_document(path)
        assert time.perf_counter() - t0 < 5


def test_chunking_a_long_unbroken_line_is_linear(monkeypatch) -> None:
    import rag.ingest.chunking

    counted: list[int] = []
    real = rag.ingest.chunking.count_tokens
    monkeypatch.setattr(rag.ingest.chunking, "count_tokens", lambda t: counted.append(len(t)) or real(t))
    text = "word " * 38_000  # 190,000 characters, under MAX_TEXT_CHARS, no sentence end
    doc = Document(doc_id="d", title="t", text=text.strip(), language="en", source="s", file_hash="h")
    chunks = chunk_document(doc)
    assert "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")
    assert sum(counted) < 20 * len(text), f"counted {sum(counted):,} characters for {len(text):,}"


# Shapes that once took time quadratic in the file: a million short lines (repeat detection
# scanned around every short line), a boilerplate prefix repeated on one huge line.
_HANG_SHAPES = {
    "short_lines.txt": "Musk left OpenAI in 2018 because of a conflict of interest.\n" + "ab\n" * 1_000_000,
    "guanzhu.txt": "关注我" * 500_000 + "\n马斯克离开了公司，因为利益冲突。\n",
}


def _load_within(path: Path, seconds: float) -> str:
    """Load ``path`` in a subprocess; 'ok', or the one-line reason; fails if it takes longer (a hang)."""
    code = ("import sys; from rag.ingest.documents import load_document; from rag.errors import InputError\n"
            "try: load_document(__import__('pathlib').Path(sys.argv[1])); print('ok')\n"
            "except InputError as e: print(e)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         timeout=seconds, check=False)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-2000:]
    return out.stdout.strip()


@pytest.mark.parametrize("name", sorted(_HANG_SHAPES))
def test_cleaning_is_near_linear_for_every_shape(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text(_HANG_SHAPES[name])
    assert path.stat().st_size < MAX_FILE_BYTES
    result = _load_within(path, 60)  # a hang guard, not a speed target: before the fix, hours
    assert result == "ok" or result.startswith(name), result


def test_a_hang_shaped_file_does_not_stop_its_batch(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ferry.md").write_text(GOOD_EN)
    (corpus / "big.txt").write_text("关注我" * 500_000)  # rejected: over the text limit
    env = {**os.environ, "RAG_PERSIST_DIR": str(tmp_path / "chroma"), "RAG_SEEDS_DIR": str(corpus)}
    out = subprocess.run([sys.executable, "-m", "rag.cli.main", "ingest", str(corpus)], capture_output=True,
                         text=True, timeout=120, env=env, check=False)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert "added 1," in out.stdout and "rejected 1" in out.stdout
    assert [ln for ln in out.stderr.splitlines() if ln.startswith("error:")] == [
        "error: big.txt: 1,500,000 characters of text is over the 200,000 limit for one article; split the file"
    ]


def test_terminal_escapes_in_articles_and_file_names_never_reach_the_terminal(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    title = "\x1b]0;pwned\x07Harbour \x1b[31mferry\x1b[0m"
    (corpus / "ferry.md").write_text(f"# {title}\n\nThe harbour ferry line reopened on Monday \x1b[2J\x1b]8;;"
                                     "https://evil.example\x1b\\after repairs.\nTickets cost four dollars.\n"
                                     + "Boats run every twenty minutes between the two piers.\n" * 20)
    (corpus / "bad\x1b[31mname.md").write_bytes(b"")  # rejected, and named in the error line
    env = {**os.environ, "RAG_PERSIST_DIR": str(tmp_path / "chroma"), "RAG_SEEDS_DIR": str(corpus),
           "RAG_CHAT_MODEL": "extractive"}
    runs = [subprocess.run([sys.executable, "-m", "rag.cli.main", *args], capture_output=True, text=True,
                           timeout=180, env=env, check=False)
            for args in (["ingest", str(corpus)], ["ask", "When did the harbour ferry line reopen?"])]
    assert runs[0].returncode == 2 and "badname.md: the file is empty" in runs[0].stderr, runs[0].stderr[-2000:]
    assert runs[1].returncode == 0 and "reopened on Monday" in runs[1].stdout, runs[1].stdout
    for out in runs:
        assert "Traceback" not in out.stderr
        assert not [ch for ch in out.stdout + out.stderr if ord(ch) < 32 and ch not in "\n\t" or 0x7f <= ord(ch) < 0xa0]
