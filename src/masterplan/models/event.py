"""The stored event log: every event has a per-stream sequence number, written with its state change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from masterplan.models.base import Base, utcnow


class EventStream(Base):
    """The last sequence number handed out per stream (e.g. `masterplan:<id>`)."""

    __tablename__ = "event_streams"

    stream: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)


class ExecutionEvent(Base):
    __tablename__ = "execution_events"
    __table_args__ = (UniqueConstraint("stream", "seq"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    stream: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int]
    type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]]
    trace_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
