"""Acceptance tests derived from a plan, their runs, and the human review queue."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from masterplan.models.base import Base, IdMixin, TimestampMixin


class AcceptanceTest(IdMixin, TimestampMixin, Base):
    __tablename__ = "acceptance_tests"

    masterplan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("masterplans.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(10), default="must")
    covers_tasks: Mapped[list[int]] = mapped_column(default=list)
    kind: Mapped[str] = mapped_column(String(10), default="command")
    pytest_code: Mapped[str | None] = mapped_column(Text)
    command: Mapped[str | None] = mapped_column(Text)
    expected_exit_code: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    last_run_at: Mapped[datetime | None]


class AcceptanceTestRun(IdMixin, TimestampMixin, Base):
    __tablename__ = "acceptance_test_runs"

    test_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("acceptance_tests.id", ondelete="CASCADE"), index=True
    )
    masterplan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("masterplans.id", ondelete="CASCADE"), index=True
    )
    wave: Mapped[int | None]
    passed: Mapped[bool]
    exit_code: Mapped[int | None]
    output: Mapped[str] = mapped_column(Text, default="")
    duration_seconds: Mapped[float] = mapped_column(default=0.0)


class Review(IdMixin, TimestampMixin, Base):
    __tablename__ = "reviews"

    masterplan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("masterplans.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    confidence: Mapped[float]
    priority: Mapped[str] = mapped_column(String(10), default="medium")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    suggestions: Mapped[list[str]] = mapped_column(default=list)
    reviewer_feedback: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class PlanReviewIteration(IdMixin, TimestampMixin, Base):
    """An LLM review of a draft plan: suggestions as concrete edit operations."""

    __tablename__ = "plan_review_iterations"

    masterplan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("masterplans.id", ondelete="CASCADE"), index=True
    )
    review_type: Mapped[str] = mapped_column(String(30))
    scope: Mapped[str] = mapped_column(String(20), default="plan")
    target_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="open")
    suggestions: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    applied_indices: Mapped[list[int]] = mapped_column(default=list)
