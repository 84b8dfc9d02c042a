"""Leases of the processes that run workflows on a shared database (workers and serving processes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from masterplan.models.base import Base, utcnow


class WorkerLease(Base):
    """One row per live executor: renewed while the process runs; an expired or released row is recovered."""

    __tablename__ = "worker_leases"

    executor_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    # A new value per process start, so a zombie with the same executor id notices it was replaced.
    instance: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    hostname: Mapped[str] = mapped_column(String(200), default="")
    pid: Mapped[int] = mapped_column(default=0)
    lease_seconds: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(default=None)
