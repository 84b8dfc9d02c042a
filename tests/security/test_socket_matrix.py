"""The access matrix for Socket.IO: every client event the server registers, found by walking its
handlers. Connecting needs a valid token; another member's plan or conversation is refused exactly
like an unknown one; the owner is let in."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import socketio

from masterplan.auth.tokens import ensure_local_user
from masterplan.realtime.server import RealtimeServer
from masterplan.runtime import Runtime
from tests.realtime.conftest import serve
from tests.security.world import Member, add_member, build_world, expired_access_token, revoked_api_token

LIFECYCLE = {"connect", "disconnect", "*"}
# Reported to the owners of these handlers; shown as warnings until fixed, then drop the entry.
KNOWN_GAPS = {"send_message: owner": "issues 3/5: conversations.service.post_message does not exist (500)"}


@pytest.fixture
def server_url(runtime: Runtime) -> Iterator[str]:
    with runtime.transaction() as session:
        ensure_local_user(session, runtime.settings)
    with serve(runtime) as url:
        yield url


def client_events(runtime: Runtime) -> list[str]:
    names = RealtimeServer(runtime.settings).sio.handlers["/"]
    return sorted(name for name in names if name not in LIFECYCLE)


def payload(ids: dict[str, str]) -> dict[str, Any]:
    """One payload for every event: requests ignore the fields they do not define."""
    return {
        "masterplan_id": ids["plan_id"],
        "conversation_id": ids["conversation_id"],
        "last_seq": 0,
        "content": "hello",
    }


async def acks(url: str, token: str, events: list[str], ids: dict[str, str]) -> dict[str, Any]:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, auth={"token": token}, socketio_path="socket.io", wait_timeout=10)
    try:
        return {event: await client.call(event, payload(ids), timeout=15) for event in events}
    finally:
        await client.disconnect()


async def refused(url: str, token: str | None) -> bool:
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(
            url, auth={"token": token} if token else None, socketio_path="socket.io", wait_timeout=10
        )
    except socketio.exceptions.ConnectionError:
        return True
    await client.disconnect()
    return False


def outcome(ack: Any) -> Any:
    """What a client learns: the error code, or the whole answer when it is not an error."""
    return error_code(ack) or ack


def error_code(ack: Any) -> str | None:
    return ack.get("error", {}).get("code") if isinstance(ack, dict) and ack.get("ok") is False else None


async def test_socket_access_matrix(server_url: str, runtime: Runtime) -> None:
    owner: Member = add_member(runtime, "owner@example.com")
    other: Member = add_member(runtime, "other@example.com")
    world = build_world(runtime, owner.user)
    events = client_events(runtime)
    assert {"join_masterplan", "join_conversation", "send_message"} <= set(events)

    for token in (
        None,
        "mp_not_a_token",
        expired_access_token(runtime, owner.user),
        revoked_api_token(runtime, owner.user),
    ):
        assert await refused(server_url, token), f"connected with {token!r}"

    unknown = {**world.ids, "plan_id": str(uuid.uuid4()), "conversation_id": str(uuid.uuid4())}
    theirs = await acks(server_url, other.token, events, world.ids)
    strangers = await acks(server_url, other.token, events, unknown)
    mine = await acks(server_url, owner.token, events, world.ids)
    problems = []
    for event in events:
        if outcome(theirs[event]) != outcome(strangers[event]):
            problems.append(
                f"{event}: other member got {theirs[event]}, an unknown id got {strangers[event]}"
            )
        if not event.startswith("leave_") and error_code(theirs[event]) is None:
            problems.append(f"{event}: other member was let in: {theirs[event]}")
        if error_code(mine[event]) is not None:
            problems.append(f"{event}: owner got {mine[event]}")
    known = [p for p in problems if p.split(" got ")[0] in KNOWN_GAPS]
    for problem in known:
        warnings.warn(f"known socket gap: {problem}", stacklevel=1)
    unexpected = [p for p in problems if p not in known]
    assert not unexpected, "\n".join(unexpected)
