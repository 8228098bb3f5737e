"""Evidence units: a sentence that points back is quoted with its antecedent, verbatim, with the joint span."""

from __future__ import annotations

from rag.answer.evidence import joined, points_back, unit
from rag.models import Sentence

TEXT = "彼时,马斯克提出收购意向。这一提议遭到了一致拒绝。\n他随后宣布退出。此外,OpenAI改组。"


def _sentences(text: str) -> list[Sentence]:
    out, start = [], 0
    for part in ("彼时,马斯克提出收购意向。", "这一提议遭到了一致拒绝。", "他随后宣布退出。", "此外,OpenAI改组。"):
        start = text.index(part, start)
        out.append(Sentence(chunk_id="d#0", text=part, start=start, end=start + len(part), language="zh",
                            embedding=[1.0, 0.0] if len(out) % 2 == 0 else [0.0, 1.0]))
        start += len(part)
    return out


def test_pointing_back_needs_the_same_paragraph_and_a_pointing_word() -> None:
    sents = _sentences(TEXT)
    assert points_back(sents, 1, TEXT)
    assert not points_back(sents, 2, TEXT)  # "他" opens a new paragraph
    assert not points_back(sents, 3, TEXT)  # "此外" (moreover) points nowhere
    assert not points_back(sents, 0, TEXT)


def test_a_unit_brings_the_antecedent_and_an_eligible_follow_on() -> None:
    sents = _sentences(TEXT)
    assert unit(sents, 1, TEXT, lambda j: False) == (0, 1)
    assert unit(sents, 0, TEXT, lambda j: True) == (0, 1)
    assert unit(sents, 0, TEXT, lambda j: False) == (0, 0)
    assert unit(sents, 2, TEXT, lambda j: True) == (2, 2)


def test_a_joined_unit_is_verbatim_at_its_span() -> None:
    sents = _sentences(TEXT)
    s = joined(sents[0:2], TEXT)
    assert s.text == TEXT[s.start : s.end] == "彼时,马斯克提出收购意向。这一提议遭到了一致拒绝。"
    assert s.embedding == [0.5, 0.5]
    assert joined(sents[2:3], TEXT) is sents[2]
