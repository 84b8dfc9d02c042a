"""The declared status transition tables. Nothing else changes a status."""

from __future__ import annotations

from typing import Protocol

from masterplan.errors import InvalidStatusTransition

PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"approved", "rejected"}),
    "approved": frozenset({"in_progress"}),
    "rejected": frozenset(),
    "in_progress": frozenset({"paused", "completed", "failed", "cancelled"}),
    "paused": frozenset({"in_progress", "cancelled"}),
    # A retry of a failed task reopens a finished plan.
    "completed": frozenset({"in_progress"}),
    "failed": frozenset({"in_progress"}),
    "cancelled": frozenset(),
}

TASK_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"ready", "blocked", "skipped"}),
    "ready": frozenset({"in_progress", "blocked", "skipped", "pending"}),
    "in_progress": frozenset({"validating", "failed", "ready"}),
    "validating": frozenset({"completed", "failed", "in_progress"}),
    # A reviewer who rejects a task's work fails it.
    "completed": frozenset({"ready", "failed"}),
    "failed": frozenset({"ready", "skipped"}),
    "blocked": frozenset({"pending", "ready", "skipped"}),
    "skipped": frozenset({"ready"}),
}

REVIEW_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"approved", "rejected", "edited", "regenerating"}),
    "regenerating": frozenset({"pending", "approved"}),
    "approved": frozenset(),
    "rejected": frozenset({"regenerating"}),
    "edited": frozenset(),
}


class HasStatus(Protocol):
    status: str


def can_transition(table: dict[str, frozenset[str]], current: str, new: str) -> bool:
    return new in table.get(current, frozenset())


def transition_error(
    kind: str, table: dict[str, frozenset[str]], current: str, new: str
) -> InvalidStatusTransition:
    """The error for a change the table does not allow."""
    allowed = ", ".join(sorted(table.get(current, frozenset()))) or "none"
    return InvalidStatusTransition(
        f"cannot move {kind} from {current!r} to {new!r}; allowed from {current!r}: {allowed}",
        details={"current_status": current, "requested_status": new},
    )


def _move(table: dict[str, frozenset[str]], kind: str, obj: HasStatus, new: str) -> str:
    current = obj.status
    if not can_transition(table, current, new):
        raise transition_error(kind, table, current, new)
    obj.status = new
    return current


def move_plan(plan: HasStatus, new: str) -> str:
    """Change a plan's status through the table; returns the previous status."""
    return _move(PLAN_TRANSITIONS, "masterplan", plan, new)


def move_task(task: HasStatus, new: str) -> str:
    return _move(TASK_TRANSITIONS, "task", task, new)


def move_review(review: HasStatus, new: str) -> str:
    return _move(REVIEW_TRANSITIONS, "review", review, new)
