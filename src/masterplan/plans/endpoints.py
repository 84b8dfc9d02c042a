"""Plan endpoints: import, list, detail, history, approve, reject, delete."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from masterplan.deps import ClientAddress, CurrentUser, RuntimeDep, SessionDep
from masterplan.plans import repository, service
from masterplan.plans.estimates import estimate_plan
from masterplan.plans.schemas import (
    ApproveRequest,
    HistoryOut,
    MasterplanDetail,
    MasterplanPage,
    MasterplanSummary,
    PlanDocument,
    PlanStatus,
    RejectRequest,
)

router = APIRouter(prefix="/masterplans", tags=["masterplans"])


def detail_of(
    session: SessionDep, runtime: RuntimeDep, user: CurrentUser, plan_id: uuid.UUID
) -> MasterplanDetail:
    plan = repository.get_plan(session, user, plan_id, hierarchy=True)
    detail = MasterplanDetail.model_validate(plan)
    detail.estimate = estimate_plan(plan, runtime.settings)
    return detail


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MasterplanSummary)
def import_plan(
    document: PlanDocument, session: SessionDep, runtime: RuntimeDep, user: CurrentUser, client: ClientAddress
) -> MasterplanSummary:
    """Import a plan document as a draft; 422 lists every rule it breaks."""
    settings = runtime.settings
    plan = service.create_plan(
        session,
        user,
        document,
        max_retries=settings.task_max_retries,
        soft_cost_limit_usd=settings.soft_cost_limit_usd,
        hard_cost_limit_usd=settings.hard_cost_limit_usd,
        client_address=client,
        action="imported",
    )
    return MasterplanSummary.model_validate(plan)


@router.get("", response_model=MasterplanPage)
def list_plans(
    session: SessionDep,
    user: CurrentUser,
    status_filter: Annotated[PlanStatus | None, Query(alias="status")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Search in name and description.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> MasterplanPage:
    """List plans, newest first."""
    rows, total = repository.list_plans(
        session, user, status=status_filter, query=q, limit=limit, offset=offset
    )
    return MasterplanPage(
        items=[MasterplanSummary.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{plan_id}", response_model=MasterplanDetail)
def get_plan(
    plan_id: uuid.UUID, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> MasterplanDetail:
    """The full plan: phases > milestones > tasks > subtasks, with estimates."""
    return detail_of(session, runtime, user, plan_id)


@router.get("/{plan_id}/history", response_model=list[HistoryOut])
def get_history(plan_id: uuid.UUID, session: SessionDep, user: CurrentUser) -> list[HistoryOut]:
    """Every recorded action on the plan, oldest first."""
    repository.get_plan(session, user, plan_id)
    return [HistoryOut.model_validate(h) for h in repository.history(session, plan_id)]


@router.post("/{plan_id}/approve", response_model=MasterplanSummary)
def approve(
    plan_id: uuid.UUID,
    session: SessionDep,
    user: CurrentUser,
    client: ClientAddress,
    request: ApproveRequest | None = None,
) -> MasterplanSummary:
    """Approve a draft (optionally setting cost limits and execution mode); 409 from any other status."""
    plan = service.approve_plan(session, user, plan_id, request or ApproveRequest(), client)
    return MasterplanSummary.model_validate(plan)


@router.post("/{plan_id}/reject", response_model=MasterplanSummary)
def reject(
    plan_id: uuid.UUID,
    session: SessionDep,
    user: CurrentUser,
    client: ClientAddress,
    request: RejectRequest | None = None,
) -> MasterplanSummary:
    """Reject a draft, with an optional reason; 409 from any other status."""
    plan = service.reject_plan(session, user, plan_id, (request or RejectRequest()).reason, client)
    return MasterplanSummary.model_validate(plan)


@router.delete("/{plan_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(plan_id: uuid.UUID, session: SessionDep, user: CurrentUser, client: ClientAddress) -> Response:
    """Delete a draft or rejected plan."""
    service.delete_plan(session, user, plan_id, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
