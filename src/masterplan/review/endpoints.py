"""Review queue endpoints: list, detail (task, diff, logs, suggestions) and the four decisions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from masterplan.deps import ClientAddress, CurrentUser, RuntimeDep, SessionDep
from masterplan.execution.service import AfterCommit
from masterplan.models import Masterplan, Review, Task, User
from masterplan.plans.schemas import TaskOut
from masterplan.review import actions, repository
from masterplan.review.regeneration import continue_after_regenerate
from masterplan.review.schemas import (
    ReviewDetail,
    ReviewEdit,
    ReviewFeedback,
    ReviewList,
    ReviewPriority,
    ReviewSort,
    ReviewStatus,
    ReviewSummary,
)
from masterplan.review.scoring import task_diff

router = APIRouter(prefix="/reviews", tags=["reviews"])


def summary_of(review: Review, task: Task) -> ReviewSummary:
    return ReviewSummary.model_validate(
        {**_fields(review), "task_name": task.name, "task_number": task.task_number}
    )


def _fields(review: Review) -> dict[str, object]:
    names = ("id", "masterplan_id", "task_id", "confidence", "priority", "status", "created_at", "updated_at")
    return {name: getattr(review, name) for name in names}


def detail_of(session: Session, user: User, review_id: uuid.UUID) -> ReviewDetail:
    """A review with its task, the diff of the task's commit, its logs and errors."""
    review, _ = repository.get_review(session, user, review_id)
    task = session.scalars(
        select(Task).where(Task.id == review.task_id).options(selectinload(Task.subtasks))
    ).one()
    plan = session.get(Masterplan, review.masterplan_id)
    errors = [e for a in repository.attempts_of(session, task.id) for e in a.errors]
    return ReviewDetail.model_validate(
        {
            **_fields(review),
            "task_name": task.name,
            "task_number": task.task_number,
            "task": TaskOut.model_validate(task),
            "confidence_parts": task.confidence_parts or {},
            "diff": task_diff(plan.workspace_path if plan else None, task.commit_sha),
            "validation_logs": task.validation_logs,
            "errors": errors,
            "suggestions": review.suggestions,
            "reviewer_feedback": review.reviewer_feedback,
            "reviewer_id": review.reviewer_id,
        }
    )


@router.get("", response_model=ReviewList)
def list_reviews(
    session: SessionDep,
    user: CurrentUser,
    status: Annotated[ReviewStatus | None, Query()] = None,
    priority: Annotated[ReviewPriority | None, Query()] = None,
    masterplan_id: Annotated[uuid.UUID | None, Query(description="Only reviews of this plan.")] = None,
    sort: Annotated[
        ReviewSort, Query(description="confidence (lowest first), -confidence, created_at, -created_at.")
    ] = "confidence",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ReviewList:
    """The review queue, lowest confidence first unless sorted otherwise."""
    rows, total = repository.list_reviews(
        session,
        user,
        status=status,
        priority=priority,
        plan_id=masterplan_id,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return ReviewList(items=[summary_of(r, t) for r, t in rows], total=total, limit=limit, offset=offset)


@router.get("/{review_id}", response_model=ReviewDetail)
def get_review(review_id: uuid.UUID, session: SessionDep, user: CurrentUser) -> ReviewDetail:
    """One review: the task, the git diff of its commit, validation logs, errors and suggestions."""
    return detail_of(session, user, review_id)


@router.post("/{review_id}/approve", response_model=ReviewDetail)
def approve(
    review_id: uuid.UUID, session: SessionDep, user: CurrentUser, client: ClientAddress
) -> ReviewDetail:
    """Accept the task's work as it is; 409 unless the review is pending."""
    actions.approve_review(session, user, review_id, client)
    return detail_of(session, user, review_id)


@router.post("/{review_id}/reject", response_model=ReviewDetail)
def reject(
    review_id: uuid.UUID, body: ReviewFeedback, session: SessionDep, user: CurrentUser, client: ClientAddress
) -> ReviewDetail:
    """Reject the work with feedback: the task becomes failed; regenerate or retry it afterwards."""
    actions.reject_review(session, user, review_id, body.feedback, client)
    return detail_of(session, user, review_id)


@router.post("/{review_id}/edit", response_model=ReviewDetail)
def edit(
    review_id: uuid.UUID, body: ReviewEdit, session: SessionDep, user: CurrentUser, client: ClientAddress
) -> ReviewDetail:
    """Replace target files of the task by hand: validated, written and committed as a review edit;
    422 lists every problem."""
    actions.edit_review(session, user, review_id, body.files, message=body.message, client_address=client)
    return detail_of(session, user, review_id)


@router.post("/{review_id}/regenerate", response_model=ReviewDetail)
def regenerate(
    review_id: uuid.UUID,
    body: ReviewFeedback,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    client: ClientAddress,
) -> ReviewDetail:
    """Run the task again with the feedback; its new confidence settles the review (approved when good,
    pending again when still low)."""
    review = actions.regenerate_review(session, user, review_id, body.feedback, client)
    after: AfterCommit = continue_after_regenerate(session, runtime, review.masterplan_id)
    session.commit()  # the run reads the task as ready: it must be stored before the run starts
    after.run(runtime)
    return detail_of(session, user, review_id)
