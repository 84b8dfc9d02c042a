"""Where execution meets quality control: acceptance tests, Gate S, confidence and reviews.

The workflow calls these from its steps. Only the gate can stop a run (it pauses the plan); scoring and
reviews never fail or hold up execution: their errors are logged, and a human decides later.

    before_execution(runtime, plan_id)        derive acceptance tests once (after approval)
    gate(runtime, plan_id, wave)              Gate S after a wave (wave) and before the next (None)
    after_task(runtime, plan_id, number)      confidence of a finished task; a review below 0.70
    after_completion(runtime, plan_id)        the lowest 15% by confidence join the review queue
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy import select

from masterplan.acceptance.derive import derive_acceptance_tests
from masterplan.acceptance.gate import acceptance_gate
from masterplan.models import Task
from masterplan.review.scoring import queue_lowest_confidence, score_task
from masterplan.runtime import Runtime

log = structlog.get_logger(__name__)


def before_execution(runtime: Runtime, plan_id: uuid.UUID) -> None:
    try:
        result = derive_acceptance_tests(runtime, plan_id)
    except Exception as exc:  # no tests is a weaker run, not a failed one
        log.warning(
            "acceptance_derivation_error", masterplan_id=str(plan_id), error=f"{type(exc).__name__}: {exc}"
        )
        return
    if result.error:
        log.warning("acceptance_derivation_failed", masterplan_id=str(plan_id), error=result.error)


def gate(runtime: Runtime, plan_id: uuid.UUID, wave: int | None) -> bool:
    """False when the gate failed and paused the plan."""
    return acceptance_gate(runtime, plan_id, wave)


def after_task(runtime: Runtime, plan_id: uuid.UUID, number: int) -> None:
    try:
        with runtime.reading() as session:
            task_id = session.scalar(
                select(Task.id).where(Task.masterplan_id == plan_id, Task.task_number == number)
            )
        if task_id is not None:
            score_task(runtime, task_id)
    except Exception as exc:
        log.warning("task_scoring_failed", masterplan_id=str(plan_id), task_number=number, error=str(exc))


def after_completion(runtime: Runtime, plan_id: uuid.UUID) -> None:
    try:
        queue_lowest_confidence(runtime, plan_id)
    except Exception as exc:
        log.warning("completion_reviews_failed", masterplan_id=str(plan_id), error=str(exc))
