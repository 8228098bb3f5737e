"""Read article files safely: bounded reads, text decoding, printable names.

``read_limited`` reads a regular file of at most ``MAX_FILE_BYTES`` and never
more (a bigger file is refused by its size, unread; a FIFO or device is refused
before it can block). ``decode`` turns bytes into text: by the byte-order mark
when there is one (UTF-8, UTF-16, UTF-32), else UTF-8, else GB18030 (a superset
of GBK) when the result reads as Chinese; anything else (Windows-1252 Latin
text, say) is refused rather than guessed into mojibake, as are empty and
binary files. Every refusal is an ``InputError`` naming the file in one line. Nothing here knows about article structure.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from pathlib import Path

from rag.errors import InputError

MAX_FILE_BYTES = 5 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_TEXT = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def display_name(name: str) -> str:
    """A file name safe to print: bytes that are not UTF-8 shown as U+FFFD."""
    return os.fsencode(name).decode("utf-8", "replace")


def _reads_as_chinese(text: str) -> bool:
    """True when Han characters come in runs, as in Chinese; False for Latin-1 read as GBK.

    A Windows-1252 file often decodes as GB18030 too ("naïve" → "na赨e"), but its
    Han characters then stand alone between Latin letters (and it is refused).
    """
    sample = text[:20_000]
    hans = [m.start() for m in _HAN.finditer(sample)]
    if not hans:
        return False
    paired = sum(
        1 for i in hans
        if (i > 0 and _CJK_TEXT.match(sample[i - 1])) or (i + 1 < len(sample) and _CJK_TEXT.match(sample[i + 1]))
    )
    return paired >= 0.7 * len(hans)


def _plausible(text: str) -> bool:
    """True unless over 1% of a sample is unassigned, private-use or surrogate code points (not text)."""
    sample = text[:20_000]
    odd = sum(1 for ch in sample if unicodedata.category(ch) in ("Cn", "Co", "Cs"))
    return odd <= len(sample) * 0.01


_BOMS = [  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
]


def decode(raw: bytes, name: str) -> str:
    """Bytes → text: by its byte-order mark (UTF-8/16/32), else UTF-8, else GB18030 if it reads as Chinese."""
    bom = next((codec for mark, codec in _BOMS if raw.startswith(mark)), None)
    candidates = [bom] if bom else ["utf-8", "gb18030"]
    if bom is None and b"\x00" in raw:
        raise InputError(f"{name}: looks like a binary file, not text")
    for codec in candidates:
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        if codec == "gb18030" and not _reads_as_chinese(text):
            continue
        if codec in ("utf-16", "utf-32") and not _plausible(text):
            break  # any even-length bytes decode as UTF-16: random ones give unassigned characters
        if not text.strip("\ufeff \t\r\n\f\v"):
            raise InputError(f"{name}: the file is empty")
        if len(_CONTROL.findall(text)) > len(text) * 0.01:
            raise InputError(f"{name}: looks like a binary file, not text")
        return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if bom:
        raise InputError(f"{name}: has a {bom.upper()} byte-order mark but is not valid {bom.upper()}; save it as UTF-8")
    raise InputError(f"{name}: not valid UTF-8 or GBK text; save it as UTF-8")


def read_limited(path: Path, name: str) -> bytes:
    """The bytes of a regular file of at most ``MAX_FILE_BYTES``; never reads more than that."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{name}: not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise InputError(f"{name}: {info.st_size / 1e6:.1f} MB is over the {MAX_FILE_BYTES // 2**20} MB limit")
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > MAX_FILE_BYTES:  # it grew after the size check
        raise InputError(f"{name}: over the {MAX_FILE_BYTES // 2**20} MB limit")
    return raw
