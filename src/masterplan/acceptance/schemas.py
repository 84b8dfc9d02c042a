"""API shapes of acceptance tests, their runs and Gate S, and the events only this package sends."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from masterplan.llm.roles import AcceptanceTestSpec

AcceptanceStatus = Literal["pending", "running", "passed", "failed", "waived"]
Priority = Literal["must", "should"]


class AcceptanceTestIn(AcceptanceTestSpec):
    """A test to store; give the `id` of an existing test to keep it (and its runs)."""

    id: uuid.UUID | None = None


class AcceptanceTestsReplace(BaseModel):
    """The plan's whole set of acceptance tests: listed ones are kept or created, the rest deleted."""

    tests: list[AcceptanceTestIn] = Field(max_length=200)


class AcceptanceRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    test_id: uuid.UUID
    wave: int | None
    passed: bool
    exit_code: int | None
    output: str
    duration_seconds: float
    created_at: datetime


class AcceptanceTestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    masterplan_id: uuid.UUID
    name: str
    description: str
    priority: Priority
    covers_tasks: list[int]
    kind: Literal["pytest", "command"]
    pytest_code: str | None
    command: str | None
    expected_exit_code: int
    status: AcceptanceStatus
    last_run_at: datetime | None
    last_run: AcceptanceRunOut | None = None


class FailingTest(BaseModel):
    test_id: uuid.UUID
    name: str
    priority: Priority


class GateStatus(BaseModel):
    """Gate S over the tests run so far: every must test and 95% of should tests passing (configurable)."""

    gate_passed: bool
    must_rate: float = Field(ge=0, le=1)
    should_rate: float = Field(ge=0, le=1)
    must_passed: int
    must_run: int
    should_passed: int
    should_run: int
    must_threshold: float
    should_threshold: float
    failing: list[FailingTest]
    waived: int


class AcceptanceTestList(BaseModel):
    items: list[AcceptanceTestOut]
    gate: GateStatus


class RunOutcome(BaseModel):
    test_id: uuid.UUID
    name: str
    priority: Priority
    passed: bool
    exit_code: int | None
    timed_out: bool
    duration_seconds: float


class GateVerdict(BaseModel):
    """What `run_wave_acceptance` returns to the execution engine: stop starting waves unless passed."""

    wave: int | None
    ran: list[RunOutcome]
    gate: GateStatus
    paused: bool

    @property
    def gate_passed(self) -> bool:
        return self.gate.gate_passed


class GateOverrideRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why the failing tests may be ignored.")


class DeriveRequest(BaseModel):
    replace: bool = Field(False, description="Replace existing tests; otherwise existing ones are kept.")


class DeriveResult(BaseModel):
    created: int
    kept_existing: bool
    error: str | None = None
    model: str = ""
    cost_usd: float | None = None
