"""GET /api/v1/audit: the audit trail for admins, filterable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from masterplan.audit.repository import AuditFilter, search
from masterplan.audit.schemas import AuditEntry, AuditPage
from masterplan.auth.dependencies import AdminUser
from masterplan.auth.schemas import ADMIN_ONLY
from masterplan.deps import SessionDep
from masterplan.errors import DomainError

router = APIRouter(prefix="/audit", tags=["audit"], responses=ADMIN_ONLY)


class InvalidRange(DomainError):
    status_code = 422
    code = "invalid_time_range"


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("", response_model=AuditPage)
def list_audit(
    session: SessionDep,
    _admin: AdminUser,
    actor: Annotated[
        str | None, Query(max_length=320, description="Email (or user id) of who acted.")
    ] = None,
    action: Annotated[
        list[str] | None, Query(max_length=50, description="Actions to include, e.g. approved, signed_in.")
    ] = None,
    masterplan_id: Annotated[uuid.UUID | None, Query(description="Only entries about this plan.")] = None,
    target_type: Annotated[
        str | None, Query(max_length=50, description="masterplan, task, user, ...")
    ] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(description="From this time on (inclusive).")] = None,
    until: Annotated[datetime | None, Query(description="Before this time (exclusive).")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> AuditPage:
    """Audit entries, newest first (admins only): approvals, execution control, reviews, sign-ins, users."""
    start, end = _utc(since), _utc(until)
    if start and end and start > end:
        raise InvalidRange(f"since ({start.isoformat()}) is after until ({end.isoformat()})")
    audit_filter = AuditFilter(
        actor=actor,
        actions=[a for a in action or [] if a],
        masterplan_id=masterplan_id,
        target_type=target_type,
        target_id=target_id,
        since=start,
        until=end,
    )
    rows, total = search(session, audit_filter, limit=limit, offset=offset)
    return AuditPage(
        items=[AuditEntry.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )
