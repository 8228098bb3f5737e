"""Render the evidence for the prompt in a frame that article text cannot forge.

Article text is untrusted. Before it enters the prompt it is NFKC-normalised
(full-width ＜ becomes <), zero-width and other format characters are removed,
chat-template control tokens (``<|im_start|>``, ``<s>``, ``[INST]`` …) are
neutralised, anything shaped like the frame's own delimiters or evidence
headers (``</evidence>``, ``[2] …``) is defused, and only then is it placed
under a header the frame writes itself. The evidence goes in the user turn,
never in the system message.
What it leaves out: choosing the evidence (``evidence``) and the prompt wording (``prompts``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from rag.dates import source_label
from rag.models import EvidenceItem, Language, Passage

_CONTROL_TOKEN = re.compile(r"<\|[^|>]{0,40}\|>|</?s>|\[/?INST\]|<<\/?SYS>>|<\/?(system|user|assistant)>", re.I)
_FRAME_TAG = re.compile(r"<\s*/?\s*(evidence|passages|question)\b[^>]*>", re.I)
_HEADER = re.compile(r"[\[【]\s*(\d{1,3})\s*[\]】]")


def forged(text: str) -> bool:
    """True when ``text`` holds something shaped like the frame: a delimiter, a control token, a header."""
    text = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf")
    return bool(_CONTROL_TOKEN.search(text) or _FRAME_TAG.search(text)
                or re.match(r"\s*[\[【]\s*\d{1,3}\s*[\]】]\s*\(", text))


def sanitize(text: str) -> str:
    """Article text made inert for the prompt (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = _CONTROL_TOKEN.sub(" ", text)
    text = _FRAME_TAG.sub(" ", text)
    return _HEADER.sub(r"(\1)", text)


def render_evidence(passages: Sequence[Passage], items: Sequence[EvidenceItem], language: Language) -> str:
    """Numbered evidence blocks: one per passage that holds evidence, its sentences in passage order."""
    by_n = {p.n: p for p in passages}
    blocks = []
    for n in dict.fromkeys(it.n for it in items):
        ordered = sorted((it for it in items if it.n == n), key=lambda it: it.sentence.start)
        lines: list[str] = []
        for it in ordered:
            for sentence in it.sentences:
                if sentence.text not in lines:
                    lines.append(sentence.text)
        body = " ".join(sanitize(t) for t in lines)
        blocks.append(f"[{n}] ({sanitize(source_label(by_n[n], language))})\n{body}")
    return "\n\n".join(blocks)
