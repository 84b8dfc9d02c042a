"""Shapes of plan generation: the planner's answers, the API and the events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from masterplan.plans.schemas import PhaseType, TaskDocument

GenerationStatus = Literal["queued", "running", "completed", "failed"]
GenerationStage = Literal["queued", "discovery", "planning", "storing", "complete"]

MAX_MILESTONES = 400
MAX_TASKS_PER_MILESTONE = 40


class MilestoneOutline(BaseModel):
    name: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=2000)
    depends_on_milestones: list[int] = Field(
        default_factory=list, description="Numbers of earlier milestones (global, starting at 1)."
    )
    task_count: int = Field(ge=1, le=MAX_TASKS_PER_MILESTONE, description="How many tasks it will need.")


class PhaseOutline(BaseModel):
    phase_type: PhaseType
    name: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=2000)
    milestones: list[MilestoneOutline] = Field(min_length=1)


class PlanSkeleton(BaseModel):
    """The planner's first answer: the project and its phases and milestones, without tasks."""

    project_name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    tech_stack: list[str] = Field(default_factory=list, max_length=30)
    architecture_style: str = Field("", max_length=200)
    phases: list[PhaseOutline] = Field(min_length=1, max_length=3)


class MilestoneTasks(BaseModel):
    """The planner's answer for one milestone: its tasks, numbered after every earlier task."""

    tasks: list[TaskDocument] = Field(min_length=1, max_length=MAX_TASKS_PER_MILESTONE)


class GenerateRequest(BaseModel):
    request: str = Field(min_length=3, max_length=20000, description="What to build, in plain words.")
    conversation_id: uuid.UUID | None = Field(
        None, description="Attach to this conversation; new when empty."
    )
    model: str | None = Field(
        None, max_length=300, description="Model for discovery and planning, e.g. sim or anthropic:<model>."
    )


class GenerateAccepted(BaseModel):
    generation_id: uuid.UUID
    conversation_id: uuid.UUID


class GenerationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    conversation_id: uuid.UUID
    request_text: str
    status: GenerationStatus
    stage: GenerationStage
    error: str | None
    model: str
    discovery_id: uuid.UUID | None
    masterplan_id: uuid.UUID | None
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    trace_id: str
    created_at: datetime
    updated_at: datetime
