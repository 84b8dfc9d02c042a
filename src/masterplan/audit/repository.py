"""Queries over the audit log (the masterplan_history table)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from masterplan.models import HistoryEntry


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    actions: list[str] = field(default_factory=list)
    masterplan_id: uuid.UUID | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.actor:
            by_name = HistoryEntry.actor == self.actor.strip().lower()
            try:
                found.append(or_(by_name, HistoryEntry.actor_id == uuid.UUID(self.actor)))
            except ValueError:
                found.append(by_name)
        if self.actions:
            found.append(HistoryEntry.action.in_(self.actions))
        if self.masterplan_id:
            found.append(HistoryEntry.masterplan_id == self.masterplan_id)
        if self.target_type:
            found.append(HistoryEntry.target_type == self.target_type)
        if self.target_id:
            found.append(HistoryEntry.target_id == self.target_id)
        if self.since:
            found.append(HistoryEntry.created_at >= self.since)
        if self.until:
            found.append(HistoryEntry.created_at < self.until)
        return found


def search(
    session: Session, audit_filter: AuditFilter, *, limit: int, offset: int
) -> tuple[Sequence[HistoryEntry], int]:
    """Matching entries, newest first, and how many match in all."""
    conditions = audit_filter.conditions()
    total = session.scalar(select(func.count()).select_from(HistoryEntry).where(*conditions)) or 0
    rows = session.scalars(
        select(HistoryEntry)
        .where(*conditions)
        .order_by(HistoryEntry.created_at.desc(), HistoryEntry.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return rows, total
