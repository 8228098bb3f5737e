"""The one place the refusal decision is made: do the articles answer this question?

Refuse when there is no evidence, when the question names something no article
mentions, or asks only about things none mentions (``Evidence.unknown_terms``), when it asks a
fact no evidence sentence states in any of its words (a salary, a verdict: ``Evidence.unstated``), when a how-much question's evidence states no
figure of what it asks (``Evidence.states_figure``), when its best mean-centred similarity is
below the question language's threshold, or when it covers too little of the question's
topic words (across languages); thresholds are chosen on the dev split
(``python -m rag.evaluation.calibration``). When an LLM writes the answer, its own fixed
"not covered" phrase with no citation is the last word (``declined``); when it restates
the evidence sentence by sentence (the embedded default), it is first asked, in one
token, whether the evidence states the answer, and the probability it gives "yes"
(the server's logprobs) must reach ``min_answer_probability`` (``model_declines``).
What it leaves out: the reply's wording (``rag.answer.prompts.NO_ANSWER``) and the "no articles match these
filters" reply (``rag.answer.news.no_match``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig

from rag.answer.cite import has_marker
from rag.answer.framing import sanitize
from rag.answer.prompts import GATE_SENTENCES, NO_ANSWER
from rag.models import Evidence, Language


def unnamed(language: str) -> str:
    """The ``RefusalPolicy.min_relevance`` key of the bar for questions in ``language`` that name nothing."""
    return f"unnamed:{language}"


@dataclass(frozen=True)
class RefusalPolicy:
    """Thresholds per question language on the evidence's relevance and topic coverage. ``min_relevance`` may
    also hold, per language (``unnamed``), the bar for a question that names no one and nothing (it has no name
    for the evidence to match, only everyday words: "What's a good ratio of coffee to water…?")."""

    min_relevance: dict[str, float]
    min_overlap: float = 0.0
    min_answer_probability: float = 0.0  # 0: the model is not asked

    def refuse(self, evidence: Evidence, language: Language) -> bool:
        return self.refuse_on(answerable(evidence), evidence.relevance, evidence.term_overlap, language,
                              evidence.named)

    def refuse_on(self, has_evidence: bool, relevance: float, overlap: float, language: str,
                  named: bool = True) -> bool:
        if not has_evidence:
            return True
        bar = self.min_relevance.get(language, -1.0)
        if not named:
            bar = max(bar, self.min_relevance.get(unnamed(language), -1.0))
        return relevance < bar or overlap < self.min_overlap

    def model_declines(self, gate: Runnable | None, evidence: Evidence, config: RunnableConfig | None,
                       replies: list[Any]) -> bool:
        """The model's "yes, the evidence states the answer" is less likely than the threshold.

        The check's reply is appended to ``replies`` (its tokens count toward the answer's
        usage). A server that gives no logprobs, or a failed call, declines nothing: the
        answer goes ahead, and a dead server is reported by the answer's own call.
        """
        if gate is None or self.min_answer_probability <= 0:
            return False
        p, reply = ask_model(gate, evidence, config)
        if reply is not None:
            replies.append(reply)
        return p is not None and p < self.min_answer_probability


def answerable(evidence: Evidence) -> bool:
    """The evidence could answer at all: it exists, states a figure when one is asked, states the salary,
    verdict or founder asked (``rag.answer.attributes``), and the question names nothing, and asks about
    something, the articles mention."""
    return bool(evidence.items) and evidence.states_figure and not evidence.unstated and not evidence.unknown_terms


def ask_model(gate: Runnable, evidence: Evidence, config: RunnableConfig | None = None) -> tuple[float | None, Any]:
    """The model's probability that the evidence states the answer, and its reply (None, None when the call fails)."""
    # with only the 49% sentence, the check said no to "微软持有多少股份？": it reads every sentence chosen
    best = evidence.checked or [it.sentence.text for it in sorted(evidence.items, key=lambda it: -it.sentence.score)]
    sentences = "\n".join(f"[{i}] {sanitize(text)}" for i, text in enumerate(best[:GATE_SENTENCES], start=1))
    try:
        reply = gate.invoke({"question": sanitize(evidence.standalone_question), "sentences": sentences}, config)
    except Exception:  # noqa: BLE001 - the check is advisory; the answer's call reports a dead server
        return None, None
    return answer_probability(reply), reply


def answer_probability(reply: Any) -> float | None:
    """P(yes) / (P(yes) + P(no)) of a one-token reply, from its top logprobs (None without them)."""
    content = ((getattr(reply, "response_metadata", {}) or {}).get("logprobs") or {}).get("content") or []
    top = content[0].get("top_logprobs", []) if content else []
    yes = sum(math.exp(t["logprob"]) for t in top if t["token"].strip().lower().startswith("y"))
    no = sum(math.exp(t["logprob"]) for t in top if t["token"].strip().lower().startswith("n"))
    return yes / (yes + no) if yes + no > 0 else None


def declined(reply: str) -> bool:
    """The model said the articles do not cover the question (or said nothing), and cited nothing."""
    if reply and not any(p in reply for p in NO_ANSWER.values()):
        return False
    return not has_marker(reply)
