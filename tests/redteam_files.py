"""The red team's file and model classes: ingest files, app uploads, model faults (see ``redteam_cases``).

Registered into the same ``CASES`` list through ``@case``; importing this module
adds them. Each asserts its one-line error or its correct result.
"""

from __future__ import annotations

import os

from redteam_cases import ESC, GOOD, KEY, Context, case

from rag.errors import RagError
from rag.factory import build_chain


# ---- ingest -------------------------------------------------------------------------------

@case
def case_binary_file(c: Context) -> None:
    c.rejected({"bin.txt": bytes(range(256)) * 40}, "looks like a binary file")


@case
def case_empty_file(c: Context) -> None:
    c.rejected({"empty.md": b""}, "the file is empty")


@case
def case_whitespace_file(c: Context) -> None:
    c.rejected({"blank.md": "\n \t\n"}, "the file is empty")


@case
def case_file_over_5_mb(c: Context) -> None:
    folder = c.dir()
    with open(folder / "big.txt", "wb") as f:
        f.truncate(6 * 1024 * 1024)
    (folder / "ok.md").write_text(GOOD)
    result = c.cli("ingest", str(folder))
    assert result.exit_code == 2 and "big.txt: 6.3 MB is over the 5 MB limit" in result.stderr


@case
def case_windows_1252_latin(c: Context) -> None:
    c.rejected({"latin.txt": "The na\xefve caf\xe9 owner sent r\xe9sum\xe9s to Ren\xe9e.\n".encode("cp1252")},
               "not valid UTF-8 or GBK text; save it as UTF-8")


@case
def case_utf16_with_bom(c: Context) -> None:
    result, _ = c.ingest({"utf16doc.txt": ("\ufeff" + GOOD.replace("ferry", "tram")).encode("utf-16-le")})
    assert result.exit_code == 0 and "added 1," in result.stdout, result.stderr


@case
def case_gbk_chinese(c: Context) -> None:
    text = "云南茶叶出口增长\n2024年云南普洱茶出口额达到3亿元，比去年增长百分之二十。\n当地茶农表示，冷链物流让茶叶保持新鲜。\n"
    result, _ = c.ingest({"gbkdoc.txt": text.encode("gbk")})
    assert result.exit_code == 0 and "added 1," in result.stdout, result.stderr


@case
def case_bom_but_broken(c: Context) -> None:
    c.rejected({"badbom.txt": b"\xff\xfe" + b"\x00\xd8" * 40}, "byte-order mark but is not valid")


@case
def case_million_short_lines(c: Context) -> None:
    c.rejected({"lines.txt": "ab\n" * 1_000_000}, "no article text left")


@case
def case_five_mb_one_line(c: Context) -> None:
    c.rejected({"oneline.txt": "a" * (5 * 1024 * 1024 - 10)}, "limit for one article")


@case
def case_repeated_boilerplate_prefix(c: Context) -> None:
    c.rejected({"guanzhu.txt": "关注我" * 500_000}, "limit for one article")


@case
def case_html_with_scripts(c: Context) -> None:
    page = ("<html><head><title>Port</title><script>evilScript()</script></head><body>"
            "<p>The port handled nine million containers last year, a record.</p></body></html>")
    result, _ = c.ingest({"port.html": page})
    assert result.exit_code == 0 and "added 1," in result.stdout
    assert "evilScript" not in " ".join(c.index.chunks.get(where={"doc_id": "port"})["documents"])


@case
def case_only_front_matter(c: Context) -> None:
    c.rejected({"front.md": "---\ntitle: Nothing\n---\n"}, "no article text left")


@case
def case_unsupported_suffix(c: Context) -> None:
    folder = c.dir()
    (folder / "doc.pdf").write_bytes(b"%PDF-1.4 fake")
    c.refused("ingest", str(folder / "doc.pdf"), expect="unsupported file type")


@case
def case_missing_path(c: Context) -> None:
    result = c.cli("ingest", str(c.root / "does-not-exist"))
    assert result.exit_code == 2 and "does-not-exist" in result.stderr and "Traceback" not in result.stderr


@case
def case_symlink_out_of_corpus(c: Context) -> None:
    folder = c.dir()
    (folder / "out.md").symlink_to("/etc/hostname")
    (folder / "ok.md").write_text(GOOD)
    result = c.cli("ingest", str(folder))
    assert result.exit_code == 2 and "out.md: a link out of" in result.stderr


@case
def case_fifo(c: Context) -> None:
    folder = c.dir()
    os.mkfifo(folder / "pipe.txt")
    (folder / "ok.md").write_text(GOOD)
    result = c.cli("ingest", str(folder))
    assert result.exit_code == 2 and "pipe.txt: not a regular file" in result.stderr


@case
def case_file_name_not_utf8(c: Context) -> None:
    folder = c.dir()
    (folder / os.fsdecode(b"caf\xe9.md")).write_text(GOOD)
    result = c.cli("ingest", str(folder))
    assert result.exit_code == 2 and "the file name is not valid UTF-8" in result.stderr


@case
def case_escape_in_file_name(c: Context) -> None:
    result, _ = c.ingest({f"x{ESC}[31mred.md": b""})
    assert result.exit_code == 2 and "xred.md: the file is empty" in result.stderr
    assert ESC not in result.stderr + result.stdout


@case
def case_same_stem_twice_in_one_batch(c: Context) -> None:
    result, _ = c.ingest({"twin.md": GOOD, "twin.txt": GOOD.replace("ferry", "bus")})
    assert result.exit_code == 2 and "another file already has the id 'twin'" in result.stderr


@case
def case_same_stem_as_an_indexed_article(c: Context) -> None:
    result, folder = c.ingest({"002_cf0a488ea6d0060a.md": GOOD})
    assert result.exit_code == 2 and "already belongs to" in result.stderr
    assert str(folder / "002_cf0a488ea6d0060a.md") in result.stderr and str(c.seeds) in result.stderr
    assert {d.doc_id: d.chunks for d in c.index.documents()}["002_cf0a488ea6d0060a"] == c.chunks[
        "002_cf0a488ea6d0060a"]


@case
def case_nul_bytes_late_in_file(c: Context) -> None:
    c.rejected({"nul.txt": "word " * 3000 + "\x00" * 500}, "looks like a binary file")


# ---- app uploads --------------------------------------------------------------------------

@case
def case_upload_path_traversal(c: Context) -> None:
    outcome = c.upload("../../../etc/evil.md", GOOD.replace("ferry", "ship").encode())
    assert outcome.ok and outcome.message == "evil.md: added", outcome.message


@case
def case_upload_hidden_env(c: Context) -> None:
    assert not c.upload(".env", f"OPENAI_API_KEY={KEY}".encode()).ok


@case
def case_upload_oversized(c: Context) -> None:
    outcome = c.upload("huge.md", b"a" * (5 * 1024 * 1024 + 1))
    assert not outcome.ok and "over the 5 MB limit" in outcome.message


@case
def case_upload_binary(c: Context) -> None:
    outcome = c.upload("photo.md", bytes(range(256)) * 40)
    assert not outcome.ok and "binary" in outcome.message


@case
def case_upload_hang_shape(c: Context) -> None:
    outcome = c.upload("lines.md", b"ab\n" * 1_500_000)
    assert not outcome.ok and "no article text left" in outcome.message


@case
def case_upload_same_id_as_a_seed(c: Context) -> None:
    outcome = c.upload("004_8dfb9935f69a8e59.md", GOOD.encode())
    assert not outcome.ok and "already used by" in outcome.message


@case
def case_upload_latin1(c: Context) -> None:
    outcome = c.upload("latin.md", "r\xe9sum\xe9 of the caf\xe9 owner, 2024, in Paris.\n".encode("cp1252"))
    assert not outcome.ok and "not valid UTF-8" in outcome.message


# ---- model faults (scripted OpenAI-compatible server) ------------------------------------

@case
def case_model_401_echoing_the_key(c: Context) -> None:
    c.model_error("rejected the API key", {"status": 401, "text": f"Incorrect API key provided: {KEY}"})


@case
def case_model_400_echoing_the_key(c: Context) -> None:
    c.model_error("refused the request (HTTP 400)", {"status": 400, "text": f"bad request for key {KEY}"})


@case
def case_model_timeout(c: Context) -> None:
    c.model_error("did not answer in time", {"delay": 3, "text": "late"}, timeout=0.5)


@case
def case_model_malformed_reply(c: Context) -> None:
    c.model_error("malformed or empty reply", {"raw": "{not json"})


@case
def case_model_500_then_answer(c: Context) -> None:
    chain, server = c.model({"status": 500}, "Musk left because of a conflict of interest [1].", max_retries=1)
    try:
        answer = chain.ask("Why did Musk leave OpenAI?")
    finally:
        server.__exit__()
    assert not answer.refused and "conflict of interest" in answer.answer  # the retry after the 500 answered


@case
def case_model_cites_an_unknown_passage(c: Context) -> None:
    chain, server = c.model("Musk left OpenAI [9].")
    try:
        answer = chain.ask("Why did Musk leave OpenAI?")
    finally:
        server.__exit__()
    assert "[9]" not in answer.answer


@case
def case_model_unreachable(c: Context) -> None:
    from rag.config import Settings

    settings = Settings(_env_file=None, persist_dir=c.persist, seeds_dir=c.seeds, openai_api_key=KEY,
                        chat_model="openai:gpt-4o-mini", openai_base_url="http://127.0.0.1:9/v1", max_retries=0)
    try:
        build_chain(settings, c.index).ask("Why did Musk leave OpenAI?")
    except RagError as exc:
        c.outputs.append(str(exc))
        assert "cannot reach the model" in str(exc)
    else:
        raise AssertionError("no error")
