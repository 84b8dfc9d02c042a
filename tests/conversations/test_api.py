"""Conversations over HTTP: messages, chat replies streamed as events, `/masterplan` commands, owners."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from masterplan.events import events_after
from masterplan.events.store import conversation_stream
from masterplan.runtime import Runtime
from tests.generation.test_api import other_user_headers


def wait_for_reply(
    client: TestClient, conversation_id: str, count: int, timeout: float = 30.0
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items: list[dict[str, Any]] = client.get(f"/api/v1/conversations/{conversation_id}/messages").json()[
            "items"
        ]
        if len([m for m in items if m["role"] == "assistant"]) >= count:
            return items
        time.sleep(0.05)
    raise AssertionError("no assistant reply")


def test_create_and_list_conversations(client: TestClient) -> None:
    created = client.post("/api/v1/conversations", json={"title": "Shop"})
    assert created.status_code == 201
    untitled = client.post("/api/v1/conversations").json()
    ids = [c["id"] for c in client.get("/api/v1/conversations").json()["items"]]
    assert set(ids) == {created.json()["id"], untitled["id"]}
    assert client.get(f"/api/v1/conversations/{untitled['id']}").json()["title"] == ""


def test_a_chat_message_gets_a_streamed_reply(client: TestClient, runtime: Runtime) -> None:
    conversation = client.post("/api/v1/conversations").json()["id"]
    sent = client.post(f"/api/v1/conversations/{conversation}/messages", json={"content": "What can you do?"})
    assert sent.status_code == 201
    assert sent.json()["message"]["role"] == "user"
    assert sent.json()["generation_id"] is None

    messages = wait_for_reply(client, conversation, 1)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    reply = messages[1]
    assert "/masterplan" in reply["content"]
    with runtime.transaction() as session:
        events = events_after(session, conversation_stream(conversation))
    chunks = [e for e in events if e.type == "message_chunk"]
    assert chunks and all(e.payload["message_id"] == reply["id"] for e in chunks)
    assert "".join(e.payload["delta"] for e in chunks) == reply["content"]
    complete = events[-1]
    assert complete.type == "message_complete" and complete.payload["message_id"] == reply["id"]
    assert complete.payload["conversation_id"] == conversation
    assert client.get(f"/api/v1/conversations/{conversation}").json()["title"] == "What can you do?"


def test_the_chat_remembers_the_conversation(client: TestClient) -> None:
    conversation = client.post("/api/v1/conversations").json()["id"]
    client.post(f"/api/v1/conversations/{conversation}/messages", json={"content": "first question"})
    wait_for_reply(client, conversation, 1)
    client.post(f"/api/v1/conversations/{conversation}/messages", json={"content": "second question"})
    messages = wait_for_reply(client, conversation, 2)
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert "second question" in messages[3]["content"]


def test_a_masterplan_command_generates_a_plan_and_answers_with_it(client: TestClient) -> None:
    conversation = client.post("/api/v1/conversations").json()["id"]
    sent = client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"content": "/masterplan a todo REST API with users", "model": "sim:tasks=7"},
    ).json()
    assert sent["generation_id"] is not None
    assert sent["message"]["generation_id"] == sent["generation_id"]

    messages = wait_for_reply(client, conversation, 1)
    answer = messages[-1]
    assert answer["generation_id"] == sent["generation_id"]
    assert answer["masterplan_id"] is not None
    assert answer["masterplan_id"] in answer["content"]
    assert "7 tasks" in answer["content"]
    plan = client.get(f"/api/v1/masterplans/{answer['masterplan_id']}").json()
    assert plan["conversation_id"] == conversation


def test_bad_messages_are_rejected(client: TestClient) -> None:
    conversation = client.post("/api/v1/conversations").json()["id"]
    empty_command = client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"content": "/masterplan"}
    )
    assert empty_command.status_code == 422
    assert "say what to build" in empty_command.json()["error"]["message"]
    assert (
        client.post(f"/api/v1/conversations/{conversation}/messages", json={"content": ""}).status_code == 422
    )
    bad_model = client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"content": "hello", "model": "nope:x"}
    )
    assert bad_model.status_code == 422
    assert client.get(f"/api/v1/conversations/{conversation}/messages").json()["items"] == []


def test_another_users_conversation_is_not_found(client: TestClient, runtime: Runtime) -> None:
    conversation = client.post("/api/v1/conversations").json()["id"]
    headers = other_user_headers(runtime)
    assert client.get(f"/api/v1/conversations/{conversation}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/conversations/{conversation}/messages", headers=headers).status_code == 404
    response = client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"content": "hi"}, headers=headers
    )
    assert response.status_code == 404
    assert client.get("/api/v1/conversations", headers=headers).json()["items"] == []
