"""The confidence formula: 0.40 validation + 0.30 retries + 0.20 complexity + 0.10 integration."""

from __future__ import annotations

import pytest

from masterplan.review.confidence import ConfidenceInputs, confidence, needs_review, review_priority


def inputs(**changes: object) -> ConfidenceInputs:
    base: dict[str, object] = {
        "checks_passed": 4,
        "checks_total": 4,
        "final_passed": True,
        "earlier_failed_attempts": 0,
        "retry_count": 0,
        "max_retries": 3,
        "complexity": "low",
        "acceptance_passed": 0,
        "acceptance_run": 0,
    }
    return ConfidenceInputs(**(base | changes))  # type: ignore[arg-type]


def test_a_clean_low_task_without_acceptance_results() -> None:
    result = confidence(inputs())
    assert result.parts == {"validation": 1.0, "retries": 1.0, "complexity": 1.0, "integration": 0.5}
    assert result.score == pytest.approx(0.40 + 0.30 + 0.20 + 0.05)


def test_every_part_at_once() -> None:
    # 3 of 4 checks on the final attempt after 2 failed ones: 0.75 * (1 - 0.4) = 0.45
    result = confidence(
        inputs(
            checks_passed=3,
            earlier_failed_attempts=2,
            retry_count=2,
            complexity="high",
            acceptance_passed=1,
            acceptance_run=2,
        )
    )
    assert result.parts["validation"] == pytest.approx(0.45)
    assert result.parts["retries"] == pytest.approx(1 / 3, abs=1e-4)
    assert result.parts["complexity"] == 0.5
    assert result.parts["integration"] == 0.5
    assert result.score == pytest.approx(0.4 * 0.45 + 0.3 / 3 + 0.2 * 0.5 + 0.1 * 0.5, abs=1e-4)


@pytest.mark.parametrize(
    ("complexity", "part"), [("low", 1.0), ("medium", 0.75), ("high", 0.5), ("critical", 0.25)]
)
def test_complexity_scores(complexity: str, part: float) -> None:
    assert confidence(inputs(complexity=complexity)).parts["complexity"] == part


def test_integration_counts_covering_tests_that_passed() -> None:
    assert confidence(inputs(acceptance_passed=3, acceptance_run=4)).parts["integration"] == 0.75
    assert confidence(inputs(acceptance_passed=0, acceptance_run=2)).parts["integration"] == 0.0
    assert confidence(inputs(acceptance_passed=2, acceptance_run=2)).score == pytest.approx(1.0)


def test_retries_use_the_task_budget() -> None:
    assert confidence(inputs(retry_count=3, max_retries=3)).parts["retries"] == 0.0
    assert confidence(inputs(retry_count=1, max_retries=4)).parts["retries"] == 0.75
    assert confidence(inputs(retry_count=0, max_retries=0)).parts["retries"] == 1.0


def test_validation_without_checks_follows_the_outcome_and_never_goes_negative() -> None:
    assert confidence(inputs(checks_total=0, checks_passed=0, final_passed=True)).parts["validation"] == 1.0
    assert confidence(inputs(checks_total=0, checks_passed=0, final_passed=False)).parts["validation"] == 0.0
    assert confidence(inputs(earlier_failed_attempts=9)).parts["validation"] == 0.0


def test_review_thresholds() -> None:
    assert needs_review(0.6999) and not needs_review(0.70)
    assert review_priority(0.49) == "high"
    assert review_priority(0.50) == "medium" and review_priority(0.69) == "medium"
    assert review_priority(0.9) == "low"
