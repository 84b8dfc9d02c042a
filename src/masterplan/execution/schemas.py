"""API shapes of execution: starting a run, control actions, cost limits, a task's files and diff."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ExecuteResponse(BaseModel):
    """Returned at once; the run continues in the background."""

    execution_id: str
    workspace_id: str
    workspace_path: str
    total_tasks: int


class ControlRequest(BaseModel):
    reason: str | None = Field(None, max_length=2000, description="Why (kept in the audit history).")


class ExecutionState(BaseModel):
    """The plan's execution state after a control action."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: str
    status_reason: str | None
    execution_id: str | None
    workspace_path: str | None
    current_wave: int | None
    total_tasks: int
    completed_tasks: int
    failed_tasks: int
    skipped_tasks: int
    blocked_tasks: int
    progress_percent: float
    actual_cost_usd: float
    soft_cost_limit_usd: float
    hard_cost_limit_usd: float


class TaskState(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    task_number: int
    status: str
    retry_count: int
    max_retries: int
    last_error: str | None
    approved_to_run: bool
    commit_sha: str | None


class CostLimitsUpdate(BaseModel):
    soft_cost_limit_usd: float | None = Field(None, gt=0, description="Warn once spending passes this.")
    hard_cost_limit_usd: float | None = Field(None, gt=0, description="Pause before spending passes this.")

    @model_validator(mode="after")
    def _something(self) -> CostLimitsUpdate:
        if self.soft_cost_limit_usd is None and self.hard_cost_limit_usd is None:
            raise ValueError("give soft_cost_limit_usd, hard_cost_limit_usd or both")
        return self


class TaskFile(BaseModel):
    path: str
    content: str


class TaskDiff(BaseModel):
    task_number: int
    commit_sha: str | None
    diff: str
