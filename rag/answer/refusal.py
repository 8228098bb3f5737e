"""The one place the refusal decision is made: do the articles answer this question?

Refuse when there is no evidence, when its best mean-centred similarity is below the
question language's threshold, or when it covers too little of the question's topic
words (across languages); thresholds are chosen on the dev split
(``python -m rag.evaluation.calibration``). When an LLM answers, its own fixed "not
covered" phrase with no citation is the last word (``declined``). What it leaves out:
the reply's wording (``rag.answer.prompts.NO_ANSWER``) and the "no articles match these
filters" reply (``rag.answer.news.no_match``).
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.answer.cite import has_marker
from rag.answer.prompts import NO_ANSWER
from rag.models import Evidence, Language


@dataclass(frozen=True)
class RefusalPolicy:
    """Thresholds per question language on the evidence's relevance and topic coverage."""

    min_relevance: dict[str, float]
    min_overlap: float = 0.0

    def refuse(self, evidence: Evidence, language: Language) -> bool:
        return self.refuse_on(bool(evidence.items), evidence.relevance, evidence.term_overlap, language)

    def refuse_on(self, has_evidence: bool, relevance: float, overlap: float, language: str) -> bool:
        if not has_evidence:
            return True
        return relevance < self.min_relevance.get(language, -1.0) or overlap < self.min_overlap


def declined(reply: str) -> bool:
    """The model said the articles do not cover the question (or said nothing), and cited nothing."""
    if reply and not any(p in reply for p in NO_ANSWER.values()):
        return False
    return not has_marker(reply)
