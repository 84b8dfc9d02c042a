"""Plan versions (a snapshot per change) and the audit history of every action."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from masterplan.models.base import Base, IdMixin, TimestampMixin


class MasterplanVersion(IdMixin, TimestampMixin, Base):
    __tablename__ = "masterplan_versions"
    __table_args__ = (UniqueConstraint("masterplan_id", "version"),)

    masterplan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("masterplans.id", ondelete="CASCADE"))
    version: Mapped[int]
    snapshot: Mapped[dict[str, Any]]
    change_summary: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class HistoryEntry(IdMixin, TimestampMixin, Base):
    """Audit log: who did what to which object, with the state before and after."""

    __tablename__ = "masterplan_history"
    __table_args__ = (Index("ix_masterplan_history_plan_created", "masterplan_id", "created_at"),)

    masterplan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("masterplans.id", ondelete="SET NULL"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(320), default="system")
    action: Mapped[str] = mapped_column(String(50), index=True)
    target_type: Mapped[str] = mapped_column(String(50), default="masterplan")
    target_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    client_address: Mapped[str | None] = mapped_column(String(100))
    trace_id: Mapped[str] = mapped_column(String(64), default="")
