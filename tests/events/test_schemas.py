"""The typed event catalog: record_event validates payloads, fills the envelope, keeps plain dicts working."""

from __future__ import annotations

import uuid

import pytest

from masterplan.events import conversation_stream, events_after, plan_stream, record_event
from masterplan.events.schemas import (
    CATALOG,
    EventPayloadError,
    GateValidationResult,
    MasterplanStatusChanged,
    TaskExecutionComplete,
    WaveExecutionStart,
    parse_event,
)
from masterplan.runtime import Runtime

DESIGN_CATALOG = {
    "discovery_start", "discovery_progress", "discovery_complete", "masterplan_generation_start",
    "masterplan_tokens_progress", "masterplan_generation_complete", "masterplan_execution_start",
    "wave_execution_start", "task_execution_progress", "task_execution_complete", "atom_execution_progress",
    "atom_execution_complete", "wave_execution_complete", "acceptance_test_start", "acceptance_test_result",
    "gate_validation_result", "review_created", "cost_warning", "masterplan_status_changed",
}  # fmt: skip


def test_catalog_covers_design_section_5() -> None:
    assert set(CATALOG) >= DESIGN_CATALOG
    assert {"message_chunk", "message_complete"} <= set(CATALOG)


def test_typed_payload_is_stored_with_its_envelope(runtime: Runtime) -> None:
    plan_id = uuid.uuid4()
    with runtime.transaction() as session:
        event = record_event(
            session,
            plan_stream(plan_id),
            "wave_execution_start",
            WaveExecutionStart(wave_number=2, total_atoms=5),
            trace_id="abc123",
            masterplan_id=plan_id,
        )
    assert event.seq == 1
    with runtime.reading() as session:
        [stored] = events_after(session, plan_stream(plan_id))
    assert stored.payload["wave_number"] == 2 and stored.payload["total_atoms"] == 5
    assert stored.payload["masterplan_id"] == str(plan_id)
    assert stored.payload["trace_id"] == "abc123" and stored.payload["seq"] == 1
    typed = parse_event(stored.type, stored.payload)
    assert isinstance(typed, WaveExecutionStart)
    assert typed.masterplan_id == plan_id and typed.timestamp is not None


def test_plain_dicts_are_validated_and_normalised(runtime: Runtime) -> None:
    plan_id, task_id = uuid.uuid4(), uuid.uuid4()
    with runtime.transaction() as session:
        event = record_event(
            session,
            plan_stream(plan_id),
            "task_execution_complete",
            {"task_id": task_id, "status": "completed", "output_files": ["a.py"], "note": "kept"},
            masterplan_id=plan_id,
        )
    assert event.payload["task_id"] == str(task_id)
    assert event.payload["note"] == "kept"
    assert isinstance(parse_event(event.type, event.payload), TaskExecutionComplete)


@pytest.mark.parametrize(
    ("event_type", "payload", "problem"),
    [
        ("task_execution_complete", {"status": "completed"}, "task_id"),
        ("gate_validation_result", {"gate_passed": True, "must_rate": 1.5, "should_rate": 0.5}, "must_rate"),
        (
            "masterplan_status_changed",
            GateValidationResult(gate_passed=True, must_rate=1, should_rate=1),
            "cannot",
        ),
    ],
)
def test_wrong_payloads_are_refused_and_nothing_is_stored(
    runtime: Runtime, event_type: str, payload: object, problem: str
) -> None:
    plan_id = uuid.uuid4()
    with pytest.raises(EventPayloadError, match=problem), runtime.transaction() as session:
        record_event(session, plan_stream(plan_id), event_type, payload)  # type: ignore[arg-type]
    with runtime.reading() as session:
        assert events_after(session, plan_stream(plan_id)) == []


def test_conversation_events_carry_their_conversation_and_unknown_types_pass(runtime: Runtime) -> None:
    chat = uuid.uuid4()
    with runtime.transaction() as session:
        chunk = record_event(
            session, conversation_stream(chat), "message_chunk", {"message_id": uuid.uuid4(), "delta": "x"}
        )
        custom = record_event(session, conversation_stream(chat), "custom_note", {"text": "free form"})
    assert chunk.payload["conversation_id"] == str(chat)
    assert (chunk.seq, custom.seq) == (1, 2)
    assert custom.payload["text"] == "free form"
    assert type(parse_event("custom_note", custom.payload)).__name__ == "EventPayload"


def test_status_change_event_from_the_plan_service_matches_its_schema() -> None:
    typed = parse_event("masterplan_status_changed", {"status": "approved", "previous_status": "draft"})
    assert isinstance(typed, MasterplanStatusChanged) and typed.reason is None
