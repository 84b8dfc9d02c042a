"""GET /api/v1/metrics/summary: the figures the UI's metrics page draws, over the user's own plans."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from masterplan.deps import CurrentUser, SessionDep
from masterplan.models import Masterplan, Task, User
from masterplan.plans.schemas import PlanStatus

router = APIRouter(prefix="/metrics", tags=["metrics"])
PLANS_SHOWN = 50


class PlanMetrics(BaseModel):
    masterplan_id: uuid.UUID
    project_name: str
    status: PlanStatus
    total_tasks: int
    completed_tasks: int
    failed_tasks: int
    retries: int
    actual_cost_usd: float
    duration_seconds: float | None


class MetricsSummary(BaseModel):
    plans_total: int
    plans_by_status: dict[str, int]
    task_success_rate: float | None
    total_retries: int
    total_cost_usd: float
    mean_task_duration_seconds: float | None
    plans: list[PlanMetrics]


def summarize(session: Session, user: User) -> MetricsSummary:
    """Plans by status, task success and retries, costs and durations (admins see every plan)."""
    own: list[ColumnElement[bool]] = [] if user.role == "admin" else [Masterplan.owner_id == user.id]
    by_status = dict(
        session.execute(select(Masterplan.status, func.count()).where(*own).group_by(Masterplan.status)).all()
    )
    plan_ids = select(Masterplan.id).where(*own)
    retries = dict(
        session.execute(
            select(Task.masterplan_id, func.sum(Task.retry_count))
            .where(Task.masterplan_id.in_(plan_ids))
            .group_by(Task.masterplan_id)
        ).all()
    )
    finished = session.execute(
        select(Task.started_at, Task.completed_at, Task.status).where(
            Task.masterplan_id.in_(plan_ids), Task.status.in_(("completed", "failed"))
        )
    ).all()
    durations = [(end - start).total_seconds() for start, end, _ in finished if start and end]
    completed = sum(1 for *_, status in finished if status == "completed")
    plans = session.scalars(
        select(Masterplan).where(*own).order_by(Masterplan.created_at.desc()).limit(PLANS_SHOWN)
    ).all()
    return MetricsSummary(
        plans_total=sum(by_status.values()),
        plans_by_status=by_status,
        task_success_rate=completed / len(finished) if finished else None,
        total_retries=int(sum(v or 0 for v in retries.values())),
        total_cost_usd=float(session.scalar(select(func.sum(Masterplan.actual_cost_usd)).where(*own)) or 0.0),
        mean_task_duration_seconds=sum(durations) / len(durations) if durations else None,
        plans=[
            PlanMetrics(
                masterplan_id=p.id,
                project_name=p.project_name,
                status=p.status,
                total_tasks=p.total_tasks,
                completed_tasks=p.completed_tasks,
                failed_tasks=p.failed_tasks,
                retries=int(retries.get(p.id) or 0),
                actual_cost_usd=p.actual_cost_usd,
                duration_seconds=(p.completed_at - p.started_at).total_seconds()
                if p.started_at and p.completed_at
                else None,
            )
            for p in plans
        ],
    )


@router.get("/summary", response_model=MetricsSummary)
def metrics_summary(session: SessionDep, user: CurrentUser) -> MetricsSummary:
    """Aggregated figures for charts: plans by status, task success, retries, cost and durations."""
    return summarize(session, user)
