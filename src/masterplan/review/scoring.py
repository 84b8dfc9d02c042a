"""Scoring finished tasks and queueing the ones a human should look at. Execution never waits for a
human: these functions only record scores and reviews (the reviewer model is asked for suggestions
outside any transaction).

    score_task(runtime, task_id, *, reviewer=None) -> TaskScore | None
        After a task finished. A completed task gets its confidence (with parts); below 0.70 a review
        is created (high below 0.50, else medium) with the reviewer's suggestions, or its open review is
        updated. It also settles a regeneration: the review goes back to pending (with new suggestions)
        when the new score is still low or the task failed, and is approved when the score is good.
    rescore_tasks(runtime, masterplan_id, task_numbers, *, reviewer=None) -> list[TaskScore]
        After acceptance tests ran: the integration part of the covered tasks changed.
    queue_lowest_confidence(runtime, masterplan_id, *, reviewer=None) -> list[uuid.UUID]
        When a plan completes: the lowest 15% of its scored tasks get a review if they have none.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.errors import ConfigurationError
from masterplan.llm import CallUsage, ResolvedModel, resolve_model
from masterplan.models import AcceptanceTest, Masterplan, Task
from masterplan.review import repository, service
from masterplan.review.agent import ReviewContext, suggest
from masterplan.review.confidence import (
    Confidence,
    ConfidenceInputs,
    confidence,
    needs_review,
)
from masterplan.runtime import Runtime
from masterplan.workspace.git import GitError, commit_diff

COMPLETION_SHARE = 0.15


@dataclass(frozen=True)
class TaskScore:
    task_id: uuid.UUID
    task_number: int
    score: float | None
    parts: dict[str, float]
    review_id: uuid.UUID | None = None
    review_status: str | None = None


def covering_results(session: Session, task: Task) -> tuple[int, int]:
    """(passed, run) among the acceptance tests that name this task."""
    tests = session.scalars(select(AcceptanceTest).where(AcceptanceTest.masterplan_id == task.masterplan_id))
    covering = [t for t in tests if task.task_number in (t.covers_tasks or [])]
    ran = [t for t in covering if t.status in ("passed", "failed")]
    return sum(t.status == "passed" for t in ran), len(ran)


def confidence_inputs(session: Session, task: Task) -> ConfidenceInputs:
    """The formula's inputs: the attempts of the task's latest run, its retries, its covering tests."""
    attempts = repository.attempts_of(session, task.id)
    current_run = attempts[-(task.retry_count + 1) :] if attempts else []
    final = current_run[-1] if current_run else None
    passed, run = covering_results(session, task)
    return ConfidenceInputs(
        checks_passed=final.checks_passed if final else 0,
        checks_total=final.checks_total if final else 0,
        final_passed=final.passed if final else bool(task.validation_passed),
        earlier_failed_attempts=sum(1 for a in current_run[:-1] if not a.passed),
        retry_count=task.retry_count,
        max_retries=task.max_retries,
        complexity=task.complexity,
        acceptance_passed=passed,
        acceptance_run=run,
    )


def store_confidence(session: Session, task: Task) -> Confidence:
    result = confidence(confidence_inputs(session, task))
    task.confidence = result.score
    task.confidence_parts = result.as_json()
    return result


def review_context(
    session: Session, plan: Masterplan, task: Task, feedback: str | None = None
) -> ReviewContext:
    """What the reviewer reads (the diff is filled in later, outside the transaction)."""
    errors = [e for a in repository.attempts_of(session, task.id) for e in a.errors]
    if task.last_error and task.last_error not in errors:
        errors.append(task.last_error)
    parts = {k: v for k, v in (task.confidence_parts or {}).items() if isinstance(v, int | float)}
    return ReviewContext(
        task_number=task.task_number,
        task_name=task.name,
        task_description=task.description,
        complexity=task.complexity,
        target_files=list(task.target_files),
        confidence=task.confidence or 0.0,
        confidence_parts=parts,
        errors=errors,
        feedback=feedback,
    )


def task_diff(workspace_path: str | None, sha: str | None) -> str:
    """The patch of a task's commit; empty when there is none or the workspace is gone."""
    if not workspace_path or not sha or not Path(workspace_path).is_dir():
        return ""
    try:
        return commit_diff(Path(workspace_path), sha)
    except GitError:
        return ""


@dataclass
class _Pending:
    """A review to write once the reviewer has answered."""

    kind: str  # "create" | "requeue"
    task_id: uuid.UUID
    context: ReviewContext
    workspace_path: str | None
    commit_sha: str | None


def _reviewer(runtime: Runtime, reviewer: ResolvedModel | None) -> ResolvedModel | None:
    if reviewer is not None:
        return reviewer
    try:
        return resolve_model("reviewer", runtime.settings)
    except ConfigurationError:
        return None


def _suggestions(
    runtime: Runtime, reviewer: ResolvedModel | None, pending: _Pending
) -> tuple[list[str], CallUsage | None]:
    pending.context.diff = task_diff(pending.workspace_path, pending.commit_sha)
    resolved = _reviewer(runtime, reviewer)
    if resolved is None:
        return [], None
    return suggest(resolved, pending.context)


def score_task(
    runtime: Runtime, task_id: uuid.UUID, *, reviewer: ResolvedModel | None = None
) -> TaskScore | None:
    """Score a finished task and create, update or settle its review (see the module docstring)."""
    with runtime.transaction() as session:
        task = session.get(Task, task_id, with_for_update=True)
        if task is None:
            return None
        plan = session.get(Masterplan, task.masterplan_id)
        assert plan is not None
        open_review = repository.open_review(session, task.id)
        regenerating = open_review if open_review and open_review.status == "regenerating" else None
        if task.status == "failed" and regenerating is not None:
            service.settle_regeneration(session, plan, task, regenerating, failed=True)
            return TaskScore(task.id, task.task_number, None, {}, regenerating.id, regenerating.status)
        if task.status != "completed":
            return None
        result = store_confidence(session, task)
        score = TaskScore(task.id, task.task_number, result.score, result.parts)
        if regenerating is not None and not needs_review(result.score):
            service.settle_regeneration(session, plan, task, regenerating, failed=False)
            return TaskScore(
                task.id, task.task_number, result.score, result.parts, regenerating.id, "approved"
            )
        if open_review is not None and regenerating is None:
            service.rescore_review(session, plan, task, open_review)
            return TaskScore(task.id, task.task_number, result.score, result.parts, open_review.id, "pending")
        if not needs_review(result.score):
            return score
        feedback = regenerating.reviewer_feedback if regenerating else None
        pending = _Pending(
            kind="requeue" if regenerating else "create",
            task_id=task.id,
            context=review_context(session, plan, task, feedback),
            workspace_path=plan.workspace_path,
            commit_sha=task.commit_sha,
        )
    review_id = _write_review(runtime, reviewer, pending, reason="low_confidence")
    return TaskScore(score.task_id, score.task_number, score.score, score.parts, review_id, "pending")


def _write_review(
    runtime: Runtime, reviewer: ResolvedModel | None, pending: _Pending, *, reason: str
) -> uuid.UUID | None:
    suggestions, usage = _suggestions(runtime, reviewer, pending)
    with runtime.transaction() as session:
        task = session.get(Task, pending.task_id, with_for_update=True)
        if task is None or task.confidence is None:
            return None
        plan = session.get(Masterplan, task.masterplan_id)
        assert plan is not None
        if usage is not None:
            service.add_quality_cost(plan, usage)
        current = repository.open_review(session, task.id)
        if pending.kind == "requeue":
            if current is None or current.status != "regenerating":
                return current.id if current else None
            service.requeue_review(session, plan, task, current, suggestions)
            return current.id
        if current is not None:  # another scoring created it meanwhile
            return current.id
        return service.create_review(session, plan, task, suggestions, reason=reason).id


def rescore_tasks(
    runtime: Runtime,
    masterplan_id: uuid.UUID,
    task_numbers: list[int],
    *,
    reviewer: ResolvedModel | None = None,
) -> list[TaskScore]:
    """Score again the completed tasks among these numbers (their acceptance results changed)."""
    with runtime.reading() as session:
        ids = session.scalars(
            select(Task.id).where(
                Task.masterplan_id == masterplan_id,
                Task.task_number.in_(task_numbers),
                Task.status == "completed",
            )
        ).all()
    scores = [score_task(runtime, task_id, reviewer=reviewer) for task_id in ids]
    return [s for s in scores if s is not None]


def queue_lowest_confidence(
    runtime: Runtime, masterplan_id: uuid.UUID, *, reviewer: ResolvedModel | None = None
) -> list[uuid.UUID]:
    """Review the lowest 15% (rounded up) of the plan's scored tasks that have no review yet."""
    with runtime.reading() as session:
        plan = session.get(Masterplan, masterplan_id)
        if plan is None:
            return []
        scored = session.scalars(
            select(Task)
            .where(
                Task.masterplan_id == masterplan_id, Task.status == "completed", Task.confidence.is_not(None)
            )
            .order_by(Task.confidence, Task.task_number)
        ).all()
        lowest = scored[: math.ceil(COMPLETION_SHARE * len(scored))]
        queue = [
            _Pending("create", t.id, review_context(session, plan, t), plan.workspace_path, t.commit_sha)
            for t in lowest
            if not repository.has_review(session, t.id)
        ]
    created = [_write_review(runtime, reviewer, p, reason="completion_sample") for p in queue]
    return [r for r in created if r is not None]
