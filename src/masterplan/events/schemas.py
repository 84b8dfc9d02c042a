"""Typed payloads of every server event (DESIGN section 5), shared by producers, the API and clients.

Producers build a payload model and pass it (or a plain dict, validated against the same model) to
`record_event`; the envelope fields (`masterplan_id`, `seq`, `timestamp`, `trace_id`, and
`conversation_id` on conversation streams) are filled in when the event is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = structlog.get_logger(__name__)

ENVELOPE_FIELDS = frozenset({"masterplan_id", "seq", "timestamp", "trace_id"})


class EventPayloadError(ValueError):
    """A producer passed a payload that does not match its event's schema (a bug, not a user error)."""


class EventPayload(BaseModel):
    """Fields every event carries; subclasses add their own. Extra fields are kept, documented ones typed."""

    model_config = ConfigDict(extra="allow")
    event_type: ClassVar[str] = ""

    masterplan_id: uuid.UUID | None = None
    seq: int = 0
    timestamp: datetime | None = None
    trace_id: str = ""


# --- generation (conversation room before the plan exists, plan room afterwards) ---


class GenerationEvent(EventPayload):
    conversation_id: uuid.UUID | None = None
    generation_id: uuid.UUID | None = None
    message: str | None = Field(None, description="A line for the user, e.g. 'Analysing the domain'.")


class DiscoveryEvent(GenerationEvent):
    tokens: int = Field(0, ge=0, description="Output tokens of the discovery call so far.")
    discovery_id: uuid.UUID | None = None
    domain: str | None = None


class DiscoveryStart(DiscoveryEvent):
    event_type: ClassVar[str] = "discovery_start"


class DiscoveryProgress(DiscoveryEvent):
    event_type: ClassVar[str] = "discovery_progress"


class DiscoveryComplete(DiscoveryEvent):
    event_type: ClassVar[str] = "discovery_complete"


class PlanGenerationEvent(GenerationEvent):
    stage: str = ""
    tokens: int = Field(0, ge=0, description="Output tokens generated so far by this generation.")
    input_tokens: int = Field(0, ge=0)
    milestones_done: int = Field(0, ge=0)
    milestones_total: int = Field(0, ge=0)
    tasks: int = Field(0, ge=0)
    cost_usd: float | None = None
    error: str | None = None


class MasterplanGenerationStart(PlanGenerationEvent):
    event_type: ClassVar[str] = "masterplan_generation_start"


class MasterplanTokensProgress(PlanGenerationEvent):
    event_type: ClassVar[str] = "masterplan_tokens_progress"


class MasterplanGenerationComplete(PlanGenerationEvent):
    event_type: ClassVar[str] = "masterplan_generation_complete"


class MasterplanGenerationFailed(PlanGenerationEvent):
    event_type: ClassVar[str] = "masterplan_generation_failed"


# --- chat (conversation room) ---


class MessageChunk(EventPayload):
    event_type: ClassVar[str] = "message_chunk"
    conversation_id: uuid.UUID | None = None
    message_id: uuid.UUID
    delta: str


class MessageComplete(EventPayload):
    event_type: ClassVar[str] = "message_complete"
    conversation_id: uuid.UUID | None = None
    message_id: uuid.UUID
    role: str = "assistant"
    content: str = ""
    generation_id: uuid.UUID | None = None


# --- execution (plan room) ---


class MasterplanExecutionStart(EventPayload):
    event_type: ClassVar[str] = "masterplan_execution_start"
    workspace_id: str
    workspace_path: str
    total_tasks: int = Field(ge=0)


class WaveExecutionStart(EventPayload):
    event_type: ClassVar[str] = "wave_execution_start"
    wave_number: int = Field(ge=1)
    total_atoms: int = Field(ge=0)


class TaskExecutionProgress(EventPayload):
    event_type: ClassVar[str] = "task_execution_progress"
    task_id: uuid.UUID
    task_number: int
    status: str
    description: str = ""
    current_task: int = 0
    total_tasks: int = 0


class TaskExecutionComplete(EventPayload):
    event_type: ClassVar[str] = "task_execution_complete"
    task_id: uuid.UUID
    status: str
    output_files: list[str] = Field(default_factory=list)
    completed_tasks: int = 0
    total_tasks: int = 0


class AtomExecutionProgress(EventPayload):
    event_type: ClassVar[str] = "atom_execution_progress"
    atom_id: str
    status: str
    current: int = 0
    total: int = 0


class AtomExecutionComplete(EventPayload):
    event_type: ClassVar[str] = "atom_execution_complete"
    atom_id: str
    status: str
    result: dict[str, Any] = Field(default_factory=dict)


class WaveExecutionComplete(EventPayload):
    event_type: ClassVar[str] = "wave_execution_complete"
    wave_number: int = Field(ge=1)
    stats: dict[str, Any] = Field(default_factory=dict)


class AcceptanceTestStart(EventPayload):
    event_type: ClassVar[str] = "acceptance_test_start"
    test_id: str
    name: str = ""
    wave_number: int | None = None


class AcceptanceTestResult(EventPayload):
    event_type: ClassVar[str] = "acceptance_test_result"
    test_id: str
    passed: bool
    priority: str = ""
    message: str = ""


class GateValidationResult(EventPayload):
    event_type: ClassVar[str] = "gate_validation_result"
    gate_passed: bool
    must_rate: float = Field(ge=0, le=1)
    should_rate: float = Field(ge=0, le=1)
    wave_number: int | None = None


class ReviewCreated(EventPayload):
    event_type: ClassVar[str] = "review_created"
    review_id: uuid.UUID
    task_id: uuid.UUID
    confidence: float = Field(ge=0, le=1)
    priority: str = ""


class ReviewUpdated(EventPayload):
    """A review changed after its creation: a human decision, a new score, or a regeneration's end."""

    event_type: ClassVar[str] = "review_updated"
    review_id: uuid.UUID
    task_id: uuid.UUID
    action: str  # approved, rejected, edited, regenerate, regenerated, requeued, rescored
    status: str
    confidence: float = Field(ge=0, le=1)
    priority: str = ""


class AcceptanceTestsUpdated(EventPayload):
    event_type: ClassVar[str] = "acceptance_tests_updated"
    count: int = Field(ge=0)
    source: str  # derived, edited


class GateOverridden(EventPayload):
    event_type: ClassVar[str] = "gate_overridden"
    waived_tests: list[str]
    reason: str


class CostWarning(EventPayload):
    event_type: ClassVar[str] = "cost_warning"
    current_cost_usd: float
    soft_limit_usd: float
    hard_limit_usd: float | None = None
    remaining_budget_usd: float | None = None
    level: str = "soft"


class MasterplanStatusChanged(EventPayload):
    event_type: ClassVar[str] = "masterplan_status_changed"
    status: str
    previous_status: str | None = None
    reason: str | None = None


CATALOG: dict[str, type[EventPayload]] = {
    model.event_type: model
    for model in (
        DiscoveryStart,
        DiscoveryProgress,
        DiscoveryComplete,
        MasterplanGenerationStart,
        MasterplanTokensProgress,
        MasterplanGenerationComplete,
        MasterplanGenerationFailed,
        MessageChunk,
        MessageComplete,
        MasterplanExecutionStart,
        WaveExecutionStart,
        TaskExecutionProgress,
        TaskExecutionComplete,
        AtomExecutionProgress,
        AtomExecutionComplete,
        WaveExecutionComplete,
        AcceptanceTestStart,
        AcceptanceTestResult,
        GateValidationResult,
        ReviewCreated,
        ReviewUpdated,
        AcceptanceTestsUpdated,
        GateOverridden,
        CostWarning,
        MasterplanStatusChanged,
    )
}
TERMINAL_PLAN_STATUSES = frozenset({"completed", "failed", "cancelled", "rejected"})


def event_body(event_type: str, payload: Mapping[str, Any] | EventPayload) -> dict[str, Any]:
    """The JSON body to store for an event: validated against its schema, envelope fields left out."""
    model = CATALOG.get(event_type)
    if isinstance(payload, EventPayload):
        if payload.event_type and payload.event_type != event_type:
            raise EventPayloadError(f"a {type(payload).__name__} payload cannot be a {event_type!r} event")
        typed: EventPayload | None = payload
    elif model is None:
        log.warning("event_type_not_in_catalog", event_type=event_type)
        typed = None
    else:
        try:
            typed = model.model_validate(dict(payload))
        except ValidationError as exc:
            raise EventPayloadError(f"invalid {event_type!r} payload: {exc}") from exc
    if typed is None:
        return {k: v for k, v in dict(payload).items() if k not in ENVELOPE_FIELDS}
    body = typed.model_dump(mode="json", exclude=set(ENVELOPE_FIELDS))
    if typed.masterplan_id is not None:
        body["masterplan_id"] = str(typed.masterplan_id)
    return body


def parse_event(event_type: str, payload: Mapping[str, Any]) -> EventPayload:
    """A received payload as its typed model (the base model for types outside the catalog)."""
    return CATALOG.get(event_type, EventPayload).model_validate(dict(payload))
