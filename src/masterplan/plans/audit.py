"""Writing the audit history of plan actions."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from masterplan.models import HistoryEntry, User


def record_history(
    session: Session,
    *,
    actor: User | None,
    action: str,
    masterplan_id: uuid.UUID | None,
    target_type: str = "masterplan",
    target_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    client_address: str | None = None,
    trace_id: str = "",
) -> HistoryEntry:
    entry = HistoryEntry(
        masterplan_id=masterplan_id,
        actor_id=actor.id if actor else None,
        actor=actor.email if actor else "system",
        action=action,
        target_type=target_type,
        target_id=target_id or (str(masterplan_id) if masterplan_id else None),
        before=before,
        after=after,
        reason=reason,
        client_address=client_address,
        trace_id=trace_id,
    )
    session.add(entry)
    return entry
