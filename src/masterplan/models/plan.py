"""The masterplan aggregate: plan > phases > milestones > tasks > subtasks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from masterplan.models.base import Base, IdMixin, TimestampMixin


class Masterplan(IdMixin, TimestampMixin, Base):
    __tablename__ = "masterplans"
    __table_args__ = (Index("ix_masterplans_owner_created", "owner_id", "created_at"),)

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    discovery_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("discovery_documents.id", ondelete="SET NULL")
    )
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    project_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    tech_stack: Mapped[list[str]] = mapped_column(default=list)
    architecture_style: Mapped[str] = mapped_column(String(200), default="")

    total_phases: Mapped[int] = mapped_column(default=0)
    total_milestones: Mapped[int] = mapped_column(default=0)
    total_tasks: Mapped[int] = mapped_column(default=0)
    total_subtasks: Mapped[int] = mapped_column(default=0)
    completed_tasks: Mapped[int] = mapped_column(default=0)
    failed_tasks: Mapped[int] = mapped_column(default=0)
    skipped_tasks: Mapped[int] = mapped_column(default=0)
    blocked_tasks: Mapped[int] = mapped_column(default=0)
    progress_percent: Mapped[float] = mapped_column(default=0.0)
    current_wave: Mapped[int | None]

    estimated_cost_usd: Mapped[float | None]
    actual_cost_usd: Mapped[float] = mapped_column(default=0.0)
    # Spend outside task attempts (acceptance test derivation, reviewer suggestions), part of actual cost.
    quality_cost_usd: Mapped[float] = mapped_column(default=0.0)
    generation_cost_usd: Mapped[float | None]
    generation_input_tokens: Mapped[int] = mapped_column(default=0)
    generation_output_tokens: Mapped[int] = mapped_column(default=0)
    llm_model: Mapped[str] = mapped_column(String(200), default="")
    soft_cost_limit_usd: Mapped[float] = mapped_column(default=50.0)
    hard_cost_limit_usd: Mapped[float] = mapped_column(default=100.0)
    cost_warning_sent: Mapped[bool] = mapped_column(default=False)

    workspace_id: Mapped[str | None] = mapped_column(String(200))
    workspace_path: Mapped[str | None] = mapped_column(Text)
    execution_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    execution_mode: Mapped[str] = mapped_column(String(20), default="parallel")
    version: Mapped[int] = mapped_column(default=1)
    trace_id: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    phases: Mapped[list[Phase]] = relationship(
        back_populates="masterplan",
        order_by="Phase.number",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise",
    )


class Phase(IdMixin, Base):
    __tablename__ = "phases"
    __table_args__ = (UniqueConstraint("masterplan_id", "number"),)

    masterplan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("masterplans.id", ondelete="CASCADE"))
    phase_type: Mapped[str] = mapped_column(String(20))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    execution_mode: Mapped[str | None] = mapped_column(String(20))
    pause_after: Mapped[bool] = mapped_column(default=False)

    masterplan: Mapped[Masterplan] = relationship(back_populates="phases", lazy="raise")
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="phase",
        order_by="Milestone.number",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise",
    )


class Milestone(IdMixin, Base):
    __tablename__ = "milestones"

    masterplan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("masterplans.id", ondelete="CASCADE"), index=True
    )
    phase_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("phases.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    depends_on_milestones: Mapped[list[int]] = mapped_column(default=list)

    phase: Mapped[Phase] = relationship(back_populates="milestones", lazy="raise")
    tasks: Mapped[list[Task]] = relationship(
        back_populates="milestone",
        order_by="Task.task_number",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise",
    )


class Task(IdMixin, TimestampMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("masterplan_id", "task_number"),
        Index("ix_tasks_masterplan_status", "masterplan_id", "status"),
    )

    masterplan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("masterplans.id", ondelete="CASCADE"))
    milestone_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("milestones.id", ondelete="CASCADE"), index=True
    )
    task_number: Mapped[int]
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    complexity: Mapped[str] = mapped_column(String(20), default="medium")
    task_type: Mapped[str] = mapped_column(String(50), default="implementation")
    depends_on: Mapped[list[int]] = mapped_column(default=list)
    target_files: Mapped[list[str]] = mapped_column(default=list)
    modified_files: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    wave: Mapped[int | None]

    llm_model: Mapped[str] = mapped_column(String(200), default="")
    llm_prompt: Mapped[str | None] = mapped_column(Text)
    llm_response: Mapped[str | None] = mapped_column(Text)
    cost_usd: Mapped[float] = mapped_column(default=0.0)
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)

    validation_passed: Mapped[bool | None]
    validation_errors: Mapped[list[str]] = mapped_column(default=list)
    validation_logs: Mapped[str | None] = mapped_column(Text)
    retry_count: Mapped[int] = mapped_column(default=0)
    max_retries: Mapped[int] = mapped_column(default=3)
    last_error: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None]
    confidence_parts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    commit_sha: Mapped[str | None] = mapped_column(String(64))
    approved_to_run: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    milestone: Mapped[Milestone] = relationship(back_populates="tasks", lazy="raise")
    subtasks: Mapped[list[Subtask]] = relationship(
        back_populates="task",
        order_by="Subtask.number",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise",
    )


class Subtask(IdMixin, Base):
    __tablename__ = "subtasks"

    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")

    task: Mapped[Task] = relationship(back_populates="subtasks", lazy="raise")


class TaskAttempt(IdMixin, TimestampMixin, Base):
    """One coder attempt of a task; unique per number so a repeated step records it once."""

    __tablename__ = "task_attempts"
    __table_args__ = (UniqueConstraint("task_id", "attempt_number"),)

    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    attempt_number: Mapped[int]
    passed: Mapped[bool] = mapped_column(default=False)
    errors: Mapped[list[str]] = mapped_column(default=list)
    checks_total: Mapped[int] = mapped_column(default=0)
    checks_passed: Mapped[int] = mapped_column(default=0)
    model: Mapped[str] = mapped_column(String(200), default="")
    temperature: Mapped[float | None]
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    cost_usd: Mapped[float] = mapped_column(default=0.0)
