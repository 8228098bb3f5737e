"""Load article files into clean ``Document`` objects, or say in one line why not.

What it does: reads and decodes the file through ``rag.ingest.files`` (size limit,
UTF-8 / UTF-16 with a BOM / GBK; other encodings and binaries refused), refuses file names that are not
UTF-8 and text over ``MAX_TEXT_CHARS`` after cleaning (so no one file can stall
an ingest), lifts metadata (title, outlet, author, published date, URL) out of
front matter and metadata lines (of unterminated front matter, the leading
``key: value`` lines; the rest is body), keeps only the visible text of HTML
(script, style, noscript and template content never become text), strips
boilerplate (image links, cover-image lines, WeChat follow/QR/reader-group
prompts, share widgets, disclaimers and exchange ads, trailing related-article
lists, price headline lists and tables), and drops a body that the page
repeats. Cleaning is linear in the file: boilerplate patterns only look at
lines of up to 500 characters, and repeat detection makes two passes. The cleaned text keeps each remaining line verbatim except for
Markdown emphasis and list/quote/heading markers. Every refusal is an
``InputError`` naming the file.

What it leaves out: chunking, language per passage, and anything about the
index. Site-specific rules are data (the tables below), not code paths.
"""

from __future__ import annotations

import hashlib
import html
import re
from html.parser import HTMLParser
from pathlib import Path

from rag.errors import InputError
from rag.ingest.files import MAX_FILE_BYTES, decode, display_name, read_limited
from rag.models import Document
from rag.text import detect_language

__all__ = ["MAX_FILE_BYTES", "MAX_TEXT_CHARS", "SUFFIXES", "clean", "decode", "load_document"]

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}
# About 30,000 English words or a 200,000-character Chinese report: more is not one article,
# and would take minutes to embed.
MAX_TEXT_CHARS = 200_000

# Lines removed wherever they stand.
_DROP_LINE = re.compile(
    "|".join(
        [
            r"^!\[[^\]]*\]\([^)]*\)\s*$",  # image-only line
            r"^封面图链接[:：]",
            r"^发布地[:：]",
            r"^[图圖]\s*[|｜]",
            r"^编辑\s*[|｜]",
            r"^复制成功$",
            r"^分享至$",
            r"^正在阅读[:：]?$",
            r"^主页\s*>",  # breadcrumb
            r"^扫一扫",
            r"^扫码",
            r"关注我.*标星",
            r"^点这里",
            r"^和作者及时互动",
            r"^和同行学习交流",
            r"^加[入⼊].*社群$",
            r"^和全球数字资产投资者交流讨论$",
            r"^\[Source Link\]\(",
            r"^-{3,}$",
            r"^END$",
        ]
    )
)
# Boilerplate lines are short; a longer line is body text, and is never searched by the
# patterns above (a search over one huge line could take time quadratic in its length).
_BOILERPLATE_CHARS = 500
# A line that ends the article: it and everything after it are dropped.
_END_MARKER = re.compile(
    r"^(END$|免责声明|本文为转载内容|相关推荐$|扫码加入读者群|评论$|暂无评论|Related( articles| stories)?:?$)"
)
# Trailing lines of these shapes are lists of links, tickers or tables.
_TRAILING_JUNK = re.compile(r"^([-*•·]\s|\d+\s*\||.*\|\s*$|[-|\s]+$)")
# Outlet named by a marker anywhere in the raw file.
_OUTLET_MARKERS = [
    (re.compile(r"界面新闻"), "界面新闻"),
    (re.compile(r"OKEx学院"), "OKEx学院"),
    (re.compile(r"金色财经"), "金色财经"),
    (re.compile(r"ft\.com/"), "Financial Times"),
    (re.compile(r"mp\.weixin\.qq\.com"), "WeChat"),
]
_URL_LINE = re.compile(r"^(?:\[(?:原文链接|Source Link|Original)\]\((\S+?)\)|原文链接[:：]\s*(\S+))$")
_AUTHOR_LINE = re.compile(r"^(?:文章作者\s*[:：]|作者\s*[:：]|文\s*[|｜]|Author:|By\s)\s*(.+)$")
_DATE_LINE = re.compile(r"^(?:发布时间[:：]\s*)?(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})日?(?:[ T][\d:.]+Z?)?$")
_MARKUP = re.compile(r"\*\*|__")
_PREFIX = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[*•]\s+)")
# A line of unterminated front matter: "key: value".
_META_LINE = re.compile(r"^[A-Za-z][\w-]{0,30}\s*:(\s.*)?$")


class _HTMLText(HTMLParser):
    """Collect visible text and the <title>, skipping script and style."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style", "noscript", "template"):
            self._skip += 1
        self._in_title = tag == "title"
        if tag in ("p", "br", "div", "h1", "h2", "h3", "li", "tr", "section", "article"):
            self.lines.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "noscript", "template") and self._skip:
            self._skip -= 1
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.lines.append(data)


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split simple ``key: value`` front matter from the body; tolerate broken YAML.

    Without a closing ``---`` the leading ``key: value`` lines are still metadata
    and everything after them is body.
    """
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 4)
    if end < 0:
        lines = text[4:].split("\n")
        n = 0
        while n < len(lines) and _META_LINE.match(lines[n]):
            n += 1
        return _meta(lines[:n]), "\n".join(lines[n:])
    return _meta(text[4:end].splitlines()), text[end + 4 :].lstrip("-")


def _meta(lines: list[str]) -> dict[str, str]:
    meta = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith((" ", "-")):
            meta[key.strip().lower()] = value.strip().strip("'\"")
    return meta


def _iso_date(value: str) -> str | None:
    m = re.search(r"(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})", value)
    return f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}" if m else None


def _strip_markup(line: str) -> str:
    line = _PREFIX.sub("", line)
    return _MARKUP.sub("", line).strip()


def _drop_repeats(lines: list[str], title: str) -> list[str]:
    """Drop lines equal to the title, and a body the page repeats.

    A long line (10+ chars) seen before is a repeat; short lines standing
    between repeats (section numbers, bylines) belong to the repeated block.
    """
    seen: set[str] = set()
    dup: list[bool | None] = []  # True repeat, False new, None short
    for line in lines:
        if len(line) < 10:
            dup.append(None)
        else:
            dup.append(line in seen)
            seen.add(line)
    # The nearest long line before and after each position, in two linear passes.
    before: list[bool | None] = []
    last: bool | None = None
    for d in dup:
        before.append(last)
        last = d if d is not None else last
    after: list[bool | None] = [None] * len(dup)
    last = None
    for i in range(len(dup) - 1, -1, -1):
        after[i] = last
        last = dup[i] if dup[i] is not None else last
    keep = []
    for i, line in enumerate(lines):
        if line == title:
            continue
        if dup[i] is None:
            if before[i] and after[i] is not False:
                continue
        elif dup[i]:
            continue
        keep.append(line)
    return keep


def clean(text: str, *, fallback_title: str, is_html: bool = False) -> dict:
    """Cleaned body plus metadata from raw article text."""
    meta, body = _front_matter(text)
    title = meta.get("title", "")
    if is_html or re.match(r"\s*(<!doctype html|<html)", body, re.I):
        parser = _HTMLText()
        parser.feed(body)
        parser.close()
        title = title or html.unescape(parser.title).strip()
        body = "".join(parser.lines)
    url = published = None
    authors: list[str] = []
    lines: list[str] = []
    for raw_line in body.split("\n"):
        line = raw_line.strip()
        if not line:
            continue
        if _END_MARKER.match(line):
            break
        if m := _URL_LINE.match(line):
            url = url or m[1] or m[2]
            continue
        if not title and line.startswith("# "):
            title = line[2:].strip()
            continue
        if m := _AUTHOR_LINE.match(line):
            authors.append(m[1].strip())
            continue
        if (m := _DATE_LINE.match(line)) and not published:
            published = _iso_date(line)
            continue
        if len(line) <= _BOILERPLATE_CHARS and _DROP_LINE.search(line):
            continue
        line = _strip_markup(line)
        if line:
            lines.append(line)
    while lines and _TRAILING_JUNK.match(lines[-1]):
        lines.pop()
    if not title and lines and len(lines[0]) <= 100:
        title = lines.pop(0)
    title = title or fallback_title
    lines = _drop_repeats(lines, title)
    outlet = next((name for rx, name in _OUTLET_MARKERS if rx.search(text)), None)
    return {
        "title": title,
        "text": "\n".join(lines),
        "url": url or meta.get("url") or meta.get("source"),
        "author": "; ".join(dict.fromkeys(authors)) or meta.get("author"),
        "outlet": outlet or meta.get("outlet"),
        "published": published or _iso_date(meta.get("date", "")),
    }


def load_document(path: Path, *, cleaned: bool = True) -> Document:
    """Read and clean one article file; ``InputError`` says why one can't be used.

    ``cleaned=False`` keeps the decoded file as it is (the naive baseline's view).
    """
    name = display_name(path.name)
    if name != path.name:
        raise InputError(f"{name}: the file name is not valid UTF-8; rename the file")
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(f"{name}: unsupported file type; use one of {', '.join(sorted(SUFFIXES))}")
    raw = read_limited(path, name)
    text = decode(raw, name)
    if cleaned:
        fields = clean(text, fallback_title=path.stem, is_html=path.suffix.lower() in (".html", ".htm"))
    else:
        fields = {"title": path.stem, "text": text.strip(), "url": None, "author": None, "outlet": None,
                  "published": None}
    if len(fields["text"]) < 20:
        raise InputError(f"{name}: no article text left after cleaning")
    if len(fields["text"]) > MAX_TEXT_CHARS:
        raise InputError(
            f"{name}: {len(fields['text']):,} characters of text is over the {MAX_TEXT_CHARS:,} limit "
            "for one article; split the file"
        )
    return Document(
        doc_id=path.stem,
        language=detect_language(fields["text"]),
        source=str(path.absolute()),
        file_hash=hashlib.sha256(raw).hexdigest(),
        **fields,
    )
