"""GET /api/v1/masterplans/{id}/events and /conversations/{id}/events: the log for polling clients."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from masterplan.events import conversation_stream, record_event
from masterplan.models import User
from masterplan.runtime import Runtime
from tests.realtime.support import create_conversation, create_plan, create_user, record_progress


def test_plan_events_page_in_order_after_a_seq(
    client: TestClient, runtime: Runtime, local_user: User
) -> None:
    plan_id = create_plan(runtime, local_user)
    record_progress(runtime, plan_id, 7)
    first = client.get(f"/api/v1/masterplans/{plan_id}/events", params={"limit": 3}).json()
    assert [e["seq"] for e in first["items"]] == [1, 2, 3]
    assert first["last_seq"] == 3 and first["has_more"] is True
    item = first["items"][0]
    assert item["type"] == "task_execution_progress"
    assert item["stream"] == f"masterplan:{plan_id}"
    assert item["payload"]["seq"] == 1 and item["payload"]["masterplan_id"] == str(plan_id)
    assert set(item) == {"stream", "seq", "type", "payload", "timestamp", "trace_id"}

    rest = client.get(f"/api/v1/masterplans/{plan_id}/events", params={"after_seq": 3}).json()
    assert [e["seq"] for e in rest["items"]] == [4, 5, 6, 7]
    assert rest["has_more"] is False
    done = client.get(f"/api/v1/masterplans/{plan_id}/events", params={"after_seq": 7}).json()
    assert done == {"items": [], "last_seq": 7, "has_more": False}


def test_plan_events_errors(client: TestClient, runtime: Runtime, local_user: User) -> None:
    plan_id = create_plan(runtime, local_user)
    unknown = client.get(f"/api/v1/masterplans/{uuid.uuid4()}/events")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "masterplan_not_found"
    bad_seq = client.get(f"/api/v1/masterplans/{plan_id}/events", params={"after_seq": -1})
    assert bad_seq.status_code == 422
    too_many = client.get(f"/api/v1/masterplans/{plan_id}/events", params={"limit": 5000})
    assert too_many.status_code == 422
    anonymous = client.get(f"/api/v1/masterplans/{plan_id}/events", headers={"Authorization": ""})
    assert anonymous.status_code == 401

    _stranger, token = create_user(runtime, "someone@example.com")
    foreign = client.get(
        f"/api/v1/masterplans/{plan_id}/events", headers={"Authorization": f"Bearer {token}"}
    )
    assert foreign.status_code == 404


def test_conversation_events(client: TestClient, runtime: Runtime, local_user: User) -> None:
    chat = create_conversation(runtime, local_user)
    with runtime.transaction() as session:
        record_event(
            session,
            conversation_stream(chat),
            "message_chunk",
            {"message_id": str(uuid.uuid4()), "delta": "hi"},
        )
    page = client.get(f"/api/v1/conversations/{chat}/events").json()
    assert [e["type"] for e in page["items"]] == ["message_chunk"]
    assert page["items"][0]["payload"]["conversation_id"] == str(chat)

    _stranger, token = create_user(runtime, "other@example.com")
    foreign = client.get(f"/api/v1/conversations/{chat}/events", headers={"Authorization": f"Bearer {token}"})
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "conversation_not_found"
