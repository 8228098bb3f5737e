"""The offline answerer: the evidence sentences, quoted and cited.

No language model: the evidence (``rag.answer.evidence``: the retrieved sentences
that best answer the question, chosen by similarity, shared terms across
languages and what the question's kind asks for) is listed under a header
that says plainly that it quotes, each sentence with the marker of its
passage, labelled with its outlet and date. It does not translate, so a
Chinese source is quoted in Chinese.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.models import EvidenceItem, Language
from rag.answer.prompts import EXTRACTIVE_HEADER
from rag.text import one_line


def compose(items: Sequence[EvidenceItem], language: Language, labels: dict[int, str] | None = None) -> str:
    """The extractive answer text: a header, then each quoted sentence with its marker and source label."""
    lines = [EXTRACTIVE_HEADER[language]]
    labels = labels or {}
    lines.extend(f"- {one_line(it.sentence.text)} [{it.n}]" + (f" ({labels[it.n]})" if it.n in labels else "") for it in items)
    return "\n".join(lines)
