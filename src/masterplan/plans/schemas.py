"""API and document shapes of a masterplan: the import document and the responses."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Complexity = Literal["low", "medium", "high", "critical"]
PhaseType = Literal["setup", "core", "polish"]
ExecutionMode = Literal["parallel", "sequential", "manual"]
PlanStatus = Literal[
    "draft", "approved", "rejected", "in_progress", "paused", "completed", "failed", "cancelled"
]
TaskStatus = Literal[
    "pending", "ready", "in_progress", "validating", "completed", "failed", "blocked", "skipped"
]


class SubtaskDocument(BaseModel):
    name: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=5000)


class TaskDocument(BaseModel):
    task_number: int = Field(ge=1, description="Global number, unique in the plan.")
    name: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=20000)
    complexity: Complexity = "medium"
    task_type: str = Field("implementation", max_length=50)
    depends_on: list[int] = Field(default_factory=list, description="Task numbers this task needs first.")
    target_files: list[str] = Field(default_factory=list, description="Workspace-relative files it writes.")
    subtasks: list[SubtaskDocument] = Field(default_factory=list, max_length=50)


class MilestoneDocument(BaseModel):
    name: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=5000)
    depends_on_milestones: list[int] = Field(default_factory=list)
    tasks: list[TaskDocument] = Field(default_factory=list)


class PhaseDocument(BaseModel):
    phase_type: PhaseType
    name: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=5000)
    execution_mode: ExecutionMode | None = None
    pause_after: bool = False
    milestones: list[MilestoneDocument] = Field(default_factory=list)


class PlanDocument(BaseModel):
    """A whole plan as the planner produces it and as POST /masterplans imports it."""

    project_name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=20000)
    tech_stack: list[str] = Field(default_factory=list)
    architecture_style: str = Field("", max_length=200)
    phases: list[PhaseDocument] = Field(min_length=1)

    def all_tasks(self) -> list[TaskDocument]:
        return [t for p in self.phases for m in p.milestones for t in m.tasks]


class Estimate(BaseModel):
    tokens: int
    cost_usd: float | None
    duration_seconds: float
    waves: int
    critical_path: list[int]
    parallelism: int


class SubtaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: int
    name: str
    description: str
    status: str


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    task_number: int
    name: str
    description: str
    complexity: Complexity
    task_type: str
    depends_on: list[int]
    target_files: list[str]
    modified_files: list[str]
    status: TaskStatus
    wave: int | None
    retry_count: int
    max_retries: int
    last_error: str | None
    validation_passed: bool | None
    validation_errors: list[str]
    confidence: float | None
    cost_usd: float
    input_tokens: int
    output_tokens: int
    commit_sha: str | None
    started_at: datetime | None
    completed_at: datetime | None
    subtasks: list[SubtaskOut]


class MilestoneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: int
    name: str
    description: str
    depends_on_milestones: list[int]
    tasks: list[TaskOut]


class PhaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    phase_type: PhaseType
    number: int
    name: str
    description: str
    execution_mode: ExecutionMode | None
    pause_after: bool
    milestones: list[MilestoneOut]


class MasterplanSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_name: str
    description: str
    status: PlanStatus
    status_reason: str | None
    total_phases: int
    total_milestones: int
    total_tasks: int
    total_subtasks: int
    completed_tasks: int
    failed_tasks: int
    skipped_tasks: int
    blocked_tasks: int
    progress_percent: float
    estimated_cost_usd: float | None
    actual_cost_usd: float
    llm_model: str
    version: int
    created_at: datetime
    updated_at: datetime


class MasterplanDetail(MasterplanSummary):
    owner_id: uuid.UUID
    discovery_id: uuid.UUID | None
    conversation_id: uuid.UUID | None
    tech_stack: list[str]
    architecture_style: str
    current_wave: int | None
    generation_cost_usd: float | None
    generation_input_tokens: int
    generation_output_tokens: int
    soft_cost_limit_usd: float
    hard_cost_limit_usd: float
    workspace_id: str | None
    workspace_path: str | None
    execution_id: str | None
    execution_mode: ExecutionMode
    trace_id: str
    started_at: datetime | None
    completed_at: datetime | None
    estimate: Estimate | None = None
    phases: list[PhaseOut]


class MasterplanPage(BaseModel):
    items: list[MasterplanSummary]
    total: int
    limit: int
    offset: int


class RejectRequest(BaseModel):
    reason: str | None = Field(None, max_length=5000)


class ApproveRequest(BaseModel):
    soft_cost_limit_usd: float | None = Field(None, gt=0)
    hard_cost_limit_usd: float | None = Field(None, gt=0)
    execution_mode: ExecutionMode | None = None


class HistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    actor: str
    action: str
    target_type: str
    target_id: str | None
    before: dict[str, object] | None
    after: dict[str, object] | None
    reason: str | None
    client_address: str | None
    created_at: datetime
