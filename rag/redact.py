"""Take secrets out of text before anyone sees it: the one redaction every output goes through.

``redact`` replaces with ``***``: the secret values it is given and those of
environment variables named like secrets (``*_KEY``, ``*_TOKEN``, ``*_SECRET``,
``*_PASSWORD``); key-shaped strings (``sk-…``, AWS, GitHub and Google keys);
``Bearer`` tokens and ``Authorization``/``api_key``/``token``/``password``
values; and the user and password of URLs (``https://user:pass@host``), which is
how credentials ride inside ``OPENAI_BASE_URL``. ``redact_data`` does the same
to every string inside JSON-like data. Used by the CLI's error lines, ingest
errors, model and embedding errors, the eval report, the bench results and
the app. It does not change answer text or article quotes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

MASK = "***"
_SECRET_ENV = re.compile(r"(_KEY|_TOKEN|_SECRET|_PASSWORD|_PASS|_APIKEY)$", re.I)
_PATTERNS = [
    # user[:password]@ in a URL
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@:'\"<>]*(?::[^/\s@'\"<>]*)?@"), rf"\1{MASK}@"),
    (re.compile(r"(?i)\b(authorization\"?'?\s*[:=]\s*\"?'?)[^\"'\n,;}]+"), rf"\1{MASK}"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=\-]+"), f"Bearer {MASK}"),
    (re.compile(r"(?i)\b(x-api-key|api[_-]?key|access[_-]?token|token|password|secret)"
                r"(\"?'?\s*[:=]\s*\"?'?)(?!\*\*\*)[^\s\"',;&}]+"), rf"\1\2{MASK}"),
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"), f"sk-{MASK}"),
    (re.compile(r"\b(AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|AIza[0-9A-Za-z_\-]{30,})"), MASK),
]


def _env_secrets() -> list[str]:
    return [v for k, v in os.environ.items() if _SECRET_ENV.search(k) and len(v) >= 6]


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every secret in it replaced by ``***`` (see the module docstring)."""
    known = sorted({s for s in [*secrets, *_env_secrets()] if s and len(s) >= 4}, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, MASK)
    for pattern, mask in _PATTERNS:
        text = pattern.sub(mask, text)
    return text


def redact_data(data: Any, secrets: Iterable[str | None] = ()) -> Any:
    """A copy of JSON-like ``data`` (dicts, lists, strings) with every string redacted."""
    secrets = list(secrets)
    if isinstance(data, str):
        return redact(data, secrets)
    if isinstance(data, dict):
        return {k: redact_data(v, secrets) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_data(v, secrets) for v in data]
    return data
