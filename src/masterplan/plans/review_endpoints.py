"""LLM review of draft plans: ask for suggestions, list iterations, apply the chosen suggestions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from masterplan.deps import ClientAddress, CurrentUser, RuntimeDep, SessionDep
from masterplan.llm.errors import model_errors
from masterplan.plans import review_agent
from masterplan.plans.review_agent import ReviewScope, ReviewType

router = APIRouter(prefix="/masterplans", tags=["plan review"])


class ReviewRequest(BaseModel):
    type: ReviewType
    scope: ReviewScope = "plan"
    target_id: str | None = Field(None, max_length=64, description="Phase, milestone or task number as text.")


class ApplySuggestionsRequest(BaseModel):
    iteration_id: uuid.UUID
    indices: list[int] = Field(
        min_length=1, max_length=20, description="Positions of the suggestions to apply."
    )


class ReviewIterationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    masterplan_id: uuid.UUID
    review_type: str
    scope: str
    target_id: str | None
    status: str
    suggestions: list[dict[str, Any]]
    applied_indices: list[int]
    created_at: datetime


@router.post("/{plan_id}/review", status_code=status.HTTP_201_CREATED, response_model=ReviewIterationOut)
def review(
    plan_id: uuid.UUID, request: ReviewRequest, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> ReviewIterationOut:
    """Ask the reviewer model for edit suggestions on a draft; stored as an open review iteration."""
    document = review_agent.draft_document(session, user, plan_id)
    session.commit()  # the model answers outside any transaction; the iteration is stored in its own
    with model_errors():
        iteration = review_agent.review_plan(
            runtime, plan_id, document, request.type, request.scope, request.target_id
        )
    return ReviewIterationOut.model_validate(iteration)


@router.get("/{plan_id}/review-iterations", response_model=list[ReviewIterationOut])
def list_review_iterations(
    plan_id: uuid.UUID, session: SessionDep, user: CurrentUser
) -> list[ReviewIterationOut]:
    """The plan's review iterations with their status, oldest first."""
    return [
        ReviewIterationOut.model_validate(i) for i in review_agent.list_iterations(session, user, plan_id)
    ]


@router.post("/{plan_id}/apply-suggestions", response_model=ReviewIterationOut)
def apply_suggestions(
    plan_id: uuid.UUID,
    request: ApplySuggestionsRequest,
    session: SessionDep,
    user: CurrentUser,
    client: ClientAddress,
) -> ReviewIterationOut:
    """Apply the chosen suggestions in one validated change (a new version); a refused set changes nothing."""
    iteration = review_agent.apply_suggestions(
        session, user, plan_id, request.iteration_id, request.indices, client_address=client
    )
    return ReviewIterationOut.model_validate(iteration)
