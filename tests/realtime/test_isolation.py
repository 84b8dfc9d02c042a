"""Isolation: rooms carry only their own stream, tokens are required, other users' plans stay closed."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
import socketio

from masterplan.auth.sessions import issue_sign_in_code
from masterplan.events import conversation_stream, record_event
from masterplan.models import User
from masterplan.realtime.client import RealtimeClient, RealtimeError
from masterplan.runtime import Runtime
from tests.conftest import TOKEN
from tests.realtime.support import create_conversation, create_plan, create_user, record_progress


async def test_a_room_never_receives_another_plans_events(
    server_url: str, runtime: Runtime, local_user: User
) -> None:
    mine, other = create_plan(runtime, local_user), create_plan(runtime, local_user)

    def interleave() -> None:
        for n in range(1, 21):
            record_progress(runtime, mine, 1, start=n)
            record_progress(runtime, other, 1, start=n)

    async with RealtimeClient(server_url, TOKEN) as client, RealtimeClient(server_url, TOKEN) as neighbour:
        await client.join_masterplan(mine, last_seq=0)
        await neighbour.join_masterplan(other, last_seq=0)
        await asyncio.to_thread(interleave)
        got = [await client.next_event(10) for _ in range(20)]
        theirs = [await neighbour.next_event(10) for _ in range(20)]
        with pytest.raises(TimeoutError):
            await client.next_event(0.3)
    assert {e.payload["masterplan_id"] for e in got} == {str(mine)}
    assert {e.stream for e in got} == {f"masterplan:{mine}"}
    assert [e.seq for e in got] == list(range(1, 21))
    assert {e.payload["masterplan_id"] for e in theirs} == {str(other)}


@pytest.mark.parametrize("token", ["", "mp_not_a_token"])
async def test_connecting_without_a_valid_token_is_refused_with_a_reason(server_url: str, token: str) -> None:
    client = RealtimeClient(server_url, token, reconnect=False)
    with pytest.raises(RealtimeError) as refused:
        await client.connect()
    assert refused.value.code == "unauthorized"
    expected = "authentication required" if not token else "unknown, revoked"
    assert expected in refused.value.message
    assert not client.connected


async def test_a_user_cannot_join_another_users_plan_or_conversation(
    server_url: str, runtime: Runtime, local_user: User
) -> None:
    stranger, stranger_token = create_user(runtime, "stranger@example.com")
    private_plan = create_plan(runtime, local_user)
    private_chat = create_conversation(runtime, local_user)
    own_plan = create_plan(runtime, stranger)
    async with RealtimeClient(server_url, stranger_token) as client:
        with pytest.raises(RealtimeError) as plan_refusal:
            await client.join_masterplan(private_plan, last_seq=0)
        with pytest.raises(RealtimeError) as chat_refusal:
            await client.join_conversation(private_chat, last_seq=0)
        ack = await client.join_masterplan(own_plan, last_seq=0)
        await asyncio.to_thread(record_progress, runtime, private_plan, 3)
        await asyncio.to_thread(record_progress, runtime, own_plan, 1)
        only = await client.next_event(10)
        with pytest.raises(TimeoutError):
            await client.next_event(0.3)
    assert plan_refusal.value.code == "masterplan_not_found"
    assert str(private_plan) in plan_refusal.value.message
    assert chat_refusal.value.code == "conversation_not_found"
    assert ack["ok"] is True
    assert only.payload["masterplan_id"] == str(own_plan)


async def test_bad_requests_get_clear_errors(server_url: str, runtime: Runtime, local_user: User) -> None:
    async with RealtimeClient(server_url, TOKEN) as client:
        with pytest.raises(RealtimeError) as unknown:
            await client.join_masterplan(uuid.uuid4(), last_seq=0)
        with pytest.raises(RealtimeError) as malformed:
            await client.request("join_masterplan", {"masterplan_id": "not-a-uuid", "last_seq": -1})
        with pytest.raises(RealtimeError) as empty_message:
            await client.request("send_message", {"conversation_id": str(uuid.uuid4()), "content": ""})
        with pytest.raises(RealtimeError) as foreign_chat:
            await client.send_message(uuid.uuid4(), "hello")
    assert unknown.value.code == "masterplan_not_found"
    assert malformed.value.code == "invalid_request"
    assert any(d.startswith("masterplan_id:") for d in malformed.value.details)
    assert any(d.startswith("last_seq:") for d in malformed.value.details)
    assert empty_message.value.code == "invalid_request"
    assert foreign_chat.value.code == "conversation_not_found"


async def test_leaving_a_room_stops_its_events(server_url: str, runtime: Runtime, local_user: User) -> None:
    plan_id = create_plan(runtime, local_user)
    async with RealtimeClient(server_url, TOKEN) as client:
        await client.join_masterplan(plan_id, last_seq=0)
        await asyncio.to_thread(record_progress, runtime, plan_id, 1)
        assert (await client.next_event(10)).seq == 1
        assert (await client.leave_masterplan(plan_id))["left"] is True
        await asyncio.to_thread(record_progress, runtime, plan_id, 1, 2)
        with pytest.raises(TimeoutError):
            await client.next_event(0.3)
        assert (await client.leave_masterplan(plan_id))["left"] is False


async def test_conversation_room_carries_chat_events_with_their_conversation(
    server_url: str, runtime: Runtime, local_user: User
) -> None:
    chat = create_conversation(runtime, local_user)
    message_id = uuid.uuid4()

    def reply() -> None:
        for delta in ("Hel", "lo"):
            with runtime.transaction() as session:
                record_event(
                    session,
                    conversation_stream(chat),
                    "message_chunk",
                    {"message_id": str(message_id), "delta": delta},
                )
        with runtime.transaction() as session:
            record_event(
                session,
                conversation_stream(chat),
                "message_complete",
                {"message_id": str(message_id), "content": "Hello"},
            )

    async with RealtimeClient(server_url, TOKEN) as client:
        await client.join_conversation(chat, last_seq=0)
        await asyncio.to_thread(reply)
        got = [await client.next_event(10) for _ in range(3)]
    assert [e.type for e in got] == ["message_chunk", "message_chunk", "message_complete"]
    assert "".join(e.payload["delta"] for e in got[:2]) == "Hello"
    assert {e.payload["conversation_id"] for e in got} == {str(chat)}
    assert [e.seq for e in got] == [1, 2, 3]


async def test_browsers_may_connect_only_from_the_servers_own_origin(server_url: str) -> None:
    async def connects(origin: str) -> bool:
        client = socketio.AsyncClient(reconnection=False)
        try:
            await client.connect(
                server_url, headers={"Origin": origin}, auth={"token": TOKEN}, transports=["websocket"]
            )
        except socketio.exceptions.ConnectionError:
            return False
        await client.disconnect()
        return True

    assert await connects(server_url)
    assert not await connects("http://evil.example")


async def test_a_browser_session_token_connects_until_the_session_ends(
    server_url: str, runtime: Runtime, local_user: User
) -> None:
    """The web UI connects with its JWT access token; after logout that token is refused."""
    with runtime.transaction() as session:
        user = session.get(User, local_user.id)
        assert user is not None
        code, _expires = issue_sign_in_code(session, user, runtime.settings)
    async with httpx.AsyncClient(base_url=server_url) as http:
        signed_in = await http.post("/api/v1/auth/signin-code", json={"code": code})
        access = signed_in.json()["access_token"]
        async with RealtimeClient(server_url, access) as client:
            assert (await client.join_masterplan(create_plan(runtime, local_user), last_seq=0))["ok"]
        logout = await http.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {access}"})
        assert logout.status_code == 204
    with pytest.raises(RealtimeError) as refused:
        await RealtimeClient(server_url, access, reconnect=False).connect()
    assert refused.value.code == "unauthorized"
