"""API shapes of the review queue, and the event only this package sends."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from masterplan.plans.schemas import TaskOut

ReviewStatus = Literal["pending", "approved", "rejected", "edited", "regenerating"]
# Reviews are created high (< 0.50), medium (< 0.70) or low (the completion sample); the UI also knows
# `critical`, kept so its filter stays valid.
ReviewPriority = Literal["low", "medium", "high", "critical"]
ReviewSort = Literal["confidence", "-confidence", "created_at", "-created_at"]
ReviewAction = Literal["rescored", "approved", "rejected", "edited", "regenerate", "regenerated", "requeued"]


class ReviewSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    masterplan_id: uuid.UUID
    task_id: uuid.UUID
    task_name: str
    task_number: int
    confidence: float
    priority: ReviewPriority
    status: ReviewStatus
    created_at: datetime
    updated_at: datetime


class ReviewDetail(ReviewSummary):
    task: TaskOut
    confidence_parts: dict[str, object]
    diff: str = Field(description="The patch of the task's commit (empty when it never committed).")
    validation_logs: str | None
    errors: list[str] = Field(description="Errors of the task's attempts, oldest first.")
    suggestions: list[str]
    reviewer_feedback: str | None
    reviewer_id: uuid.UUID | None


class ReviewList(BaseModel):
    items: list[ReviewSummary]
    total: int
    limit: int
    offset: int


class ReviewFeedback(BaseModel):
    feedback: str = Field(
        min_length=1, max_length=10000, description="What is wrong and what would be right."
    )


class TaskFile(BaseModel):
    path: str = Field(min_length=1, max_length=255, description="One of the task's target files.")
    content: str = Field(max_length=2_000_000, description="The complete new content.")


class ReviewEdit(BaseModel):
    files: list[TaskFile] = Field(min_length=1, max_length=50)
    message: str | None = Field(None, max_length=500, description="Added to the commit message.")
