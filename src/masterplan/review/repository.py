"""Queries for reviews; a review is visible to whoever may see its plan."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from masterplan.errors import NotFound
from masterplan.models import Masterplan, Review, Task, TaskAttempt, User

OPEN_STATUSES = ("pending", "regenerating")


def _visible(user: User) -> list[ColumnElement[bool]]:
    return [] if user.role == "admin" else [Masterplan.owner_id == user.id]


def _joined(user: User) -> Select[Review, Task]:
    return (
        select(Review, Task)
        .join(Task, Review.task_id == Task.id)
        .join(Masterplan, Review.masterplan_id == Masterplan.id)
        .where(*_visible(user))
    )


def get_review(
    session: Session, user: User, review_id: uuid.UUID, *, for_update: bool = False
) -> tuple[Review, Task]:
    """The review and its task if the user may see the plan; anything else is reported as unknown."""
    stmt = _joined(user).where(Review.id == review_id)
    if for_update:
        stmt = stmt.with_for_update(of=Review)
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise NotFound(f"review {review_id} not found", code="review_not_found")
    return row


def list_reviews(
    session: Session,
    user: User,
    *,
    status: str | None,
    priority: str | None,
    plan_id: uuid.UUID | None,
    sort: str,
    limit: int,
    offset: int,
) -> tuple[Sequence[tuple[Review, Task]], int]:
    conditions: list[ColumnElement[bool]] = []
    if status:
        conditions.append(Review.status == status)
    if priority:
        conditions.append(Review.priority == priority)
    if plan_id:
        conditions.append(Review.masterplan_id == plan_id)
    stmt = _joined(user).where(*conditions)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    column = Review.confidence if sort.lstrip("-") == "confidence" else Review.created_at
    order = column.desc() if sort.startswith("-") else column.asc()
    rows = session.execute(stmt.order_by(order, Review.id).limit(limit).offset(offset)).all()
    return rows, total


def open_review(session: Session, task_id: uuid.UUID) -> Review | None:
    """The task's review still waiting for a human or for its regeneration."""
    return open_reviews(session, [task_id]).get(task_id)


def open_reviews(session: Session, task_ids: list[uuid.UUID]) -> dict[uuid.UUID, Review]:
    """The latest open review of each of these tasks, in one query (tasks without one are left out)."""
    if not task_ids:
        return {}
    rows = session.scalars(
        select(Review)
        .where(Review.task_id.in_(task_ids), Review.status.in_(OPEN_STATUSES))
        .order_by(Review.created_at)
    )
    return {review.task_id: review for review in rows}  # the latest of each task wins


def has_review(session: Session, task_id: uuid.UUID) -> bool:
    return session.scalar(select(func.count()).select_from(Review).where(Review.task_id == task_id)) != 0


def attempts_of(session: Session, task_id: uuid.UUID) -> list[TaskAttempt]:
    return list(
        session.scalars(
            select(TaskAttempt).where(TaskAttempt.task_id == task_id).order_by(TaskAttempt.attempt_number)
        ).all()
    )
