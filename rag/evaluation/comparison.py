"""A run compared with an earlier one, as typed records: each metric's change and the flipped cases.

What it does: ``Comparison`` is the ``comparison`` object of report.json, the
one shape ``report.compare`` writes; ``comparison_of`` reads a run's
comparison as that type (None when the run was not compared), so the reports
and the app's Eval results page read the same fields and guess at no key.

What it leaves out: computing the changes and finding the earlier run
(``report.py``) and any markup (``tables.py``, ``render_*.py``, ``ui/evals.py``).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from rag.evaluation.runner import EvalRun

FLIP_KINDS = ("pass_to_fail", "fail_to_pass")


class MetricChange(BaseModel):
    before: float | None
    after: float | None
    delta: float | None = Field(description="after - before; None when either is missing.")


class Flip(BaseModel):
    """A case of the default answerer that passed in one run and failed in the other."""

    dataset: str
    id: str
    question: str
    reasons: list[str] = Field(description="Why it failed, in the run where it failed.")


class Comparison(BaseModel):
    previous: str = Field(description="The earlier run's directory or report.json.")
    previous_created: str
    previous_models: dict[str, str | None] = Field(default_factory=dict)
    metrics: dict[str, dict[str, dict[str, MetricChange]]] = Field(
        description="Answerer → scope (overall, a dataset, split:<name>) → metric → change."
    )
    flips: dict[str, list[Flip]] = Field(default_factory=lambda: {kind: [] for kind in FLIP_KINDS})
    only_before: int = Field(0, description="Cases only the earlier run has.")
    only_now: int = Field(0, description="Cases only this run has.")
    datasets_changed: list[str] = Field(default_factory=list, description="Datasets whose file changed since then.")

    def changes(self, system: str, scope: str = "overall") -> dict[str, MetricChange]:
        """Each metric's change for one answerer in one scope (empty when that answerer was not compared)."""
        return self.metrics.get(system, {}).get(scope, {})


def comparison_of(run: EvalRun) -> Comparison | None:
    """The run's comparison with the earlier run, typed; None when it was not compared."""
    return Comparison.model_validate(run.comparison) if run.comparison else None
