"""Queries for plans; loads relationships explicitly."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, selectinload

from masterplan.errors import NotFound
from masterplan.models import HistoryEntry, Masterplan, Milestone, Phase, Task, User


def _visible(user: User) -> list[ColumnElement[bool]]:
    return [] if user.role == "admin" else [Masterplan.owner_id == user.id]


def get_plan(
    session: Session, user: User, plan_id: uuid.UUID, *, hierarchy: bool = False, for_update: bool = False
) -> Masterplan:
    """The plan if the user may see it; another user's plan is reported exactly like an unknown one."""
    stmt = select(Masterplan).where(Masterplan.id == plan_id, *_visible(user))
    if hierarchy:
        stmt = stmt.options(
            selectinload(Masterplan.phases)
            .selectinload(Phase.milestones)
            .selectinload(Milestone.tasks)
            .selectinload(Task.subtasks)
        )
    if for_update:
        stmt = stmt.with_for_update()
    plan = session.scalars(stmt).one_or_none()
    if plan is None:
        raise NotFound(f"masterplan {plan_id} not found", code="masterplan_not_found")
    return plan


def list_plans(
    session: Session, user: User, *, status: str | None, query: str | None, limit: int, offset: int
) -> tuple[Sequence[Masterplan], int]:
    conditions = list(_visible(user))
    if status:
        conditions.append(Masterplan.status == status)
    if query:
        pattern = f"%{query.lower()}%"
        conditions.append(
            or_(
                func.lower(Masterplan.project_name).like(pattern),
                func.lower(Masterplan.description).like(pattern),
            )
        )
    total = session.scalar(select(func.count()).select_from(Masterplan).where(*conditions)) or 0
    rows = session.scalars(
        select(Masterplan)
        .where(*conditions)
        .order_by(Masterplan.created_at.desc(), Masterplan.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return rows, total


def plan_tasks(session: Session, plan_id: uuid.UUID, *, with_subtasks: bool = False) -> list[Task]:
    stmt = select(Task).where(Task.masterplan_id == plan_id).order_by(Task.task_number)
    if with_subtasks:
        stmt = stmt.options(selectinload(Task.subtasks))
    return list(session.scalars(stmt).all())


def history(session: Session, plan_id: uuid.UUID) -> Sequence[HistoryEntry]:
    return session.scalars(
        select(HistoryEntry).where(HistoryEntry.masterplan_id == plan_id).order_by(HistoryEntry.created_at)
    ).all()
