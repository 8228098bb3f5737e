"""Read one of the eval's TOML files (splits, thresholds) with a one-line error naming the file.

What it leaves out: what the tables mean (``splits``, ``gate``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from rag.errors import ConfigError


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
