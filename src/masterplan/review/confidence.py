"""The confidence formula, pure: how sure we are that a completed task's work is right.

    confidence = 0.40 validation + 0.30 retries + 0.20 complexity + 0.10 integration

validation: share of the final attempt's checks that passed, times (1 - 0.2 per earlier failed attempt);
retries: 1 - retry_count / max_retries; complexity: low 1.0, medium 0.75, high 0.5, critical 0.25;
integration: share of the task's covering acceptance tests that passed, 0.5 while none has run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WEIGHTS = {"validation": 0.40, "retries": 0.30, "complexity": 0.20, "integration": 0.10}
COMPLEXITY_SCORES = {"low": 1.0, "medium": 0.75, "high": 0.5, "critical": 0.25}
EARLIER_FAILURE_PENALTY = 0.2
INTEGRATION_UNKNOWN = 0.5
REVIEW_BELOW = 0.70
HIGH_PRIORITY_BELOW = 0.50


@dataclass(frozen=True)
class ConfidenceInputs:
    checks_passed: int
    checks_total: int
    final_passed: bool
    earlier_failed_attempts: int
    retry_count: int
    max_retries: int
    complexity: str
    acceptance_passed: int = 0
    acceptance_run: int = 0


@dataclass(frozen=True)
class Confidence:
    score: float
    parts: dict[str, float]

    def as_json(self) -> dict[str, Any]:
        return {**self.parts, "weights": WEIGHTS, "score": self.score}


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def validation_part(inputs: ConfidenceInputs) -> float:
    if inputs.checks_total > 0:
        share = inputs.checks_passed / inputs.checks_total
    else:
        share = 1.0 if inputs.final_passed else 0.0
    return _clamp(share * (1 - EARLIER_FAILURE_PENALTY * inputs.earlier_failed_attempts))


def retries_part(inputs: ConfidenceInputs) -> float:
    if inputs.max_retries <= 0:
        return 1.0 if inputs.retry_count == 0 else 0.0
    return _clamp(1 - inputs.retry_count / inputs.max_retries)


def integration_part(inputs: ConfidenceInputs) -> float:
    if inputs.acceptance_run == 0:
        return INTEGRATION_UNKNOWN
    return _clamp(inputs.acceptance_passed / inputs.acceptance_run)


def confidence(inputs: ConfidenceInputs) -> Confidence:
    """The weighted score (rounded to 4 places) and each part in [0, 1]."""
    parts = {
        "validation": validation_part(inputs),
        "retries": retries_part(inputs),
        "complexity": COMPLEXITY_SCORES.get(inputs.complexity, COMPLEXITY_SCORES["medium"]),
        "integration": integration_part(inputs),
    }
    score = sum(WEIGHTS[name] * value for name, value in parts.items())
    return Confidence(score=round(score, 4), parts={k: round(v, 4) for k, v in parts.items()})


def review_priority(score: float) -> str:
    """high below 0.50, medium below 0.70, low above (queued only by the completion sample)."""
    if score < HIGH_PRIORITY_BELOW:
        return "high"
    if score < REVIEW_BELOW:
        return "medium"
    return "low"


def needs_review(score: float) -> bool:
    return score < REVIEW_BELOW
