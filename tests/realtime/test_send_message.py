"""send_message over the socket: the conversations service stores it, the reply streams into the room."""

from __future__ import annotations

from masterplan.models import User
from masterplan.realtime.client import RealtimeClient, ReceivedEvent
from masterplan.runtime import Runtime
from tests.conftest import TOKEN
from tests.realtime.support import create_conversation


async def test_a_chat_message_gets_a_streamed_reply_in_the_conversation_room(
    server_url: str, runtime: Runtime, local_user: User
) -> None:
    chat = create_conversation(runtime, local_user)
    async with RealtimeClient(server_url, TOKEN) as client:
        await client.join_conversation(chat, last_seq=0)
        ack = await client.send_message(chat, "Hello, what can you do?")
        events: list[ReceivedEvent] = []
        while not events or events[-1].type != "message_complete":
            events.append(await client.next_event(30))
    assert ack["ok"] is True and ack["message"]["content"] == "Hello, what can you do?"
    assert ack["message"]["role"] == "user" and ack["generation_id"] is None
    chunks = [e for e in events if e.type == "message_chunk"]
    assert chunks, [e.type for e in events]
    assert "".join(e.payload["delta"] for e in chunks) == events[-1].payload["content"]
    assert [e.seq for e in events] == sorted(e.seq for e in events)


async def test_a_masterplan_command_streams_the_generation_into_the_conversation_room(
    server_url: str, runtime: Runtime, local_user: User
) -> None:
    chat = create_conversation(runtime, local_user)
    async with RealtimeClient(server_url, TOKEN) as client:
        await client.join_conversation(chat, last_seq=0)
        ack = await client.send_message(chat, "/masterplan a small todo API with users")
        events: list[ReceivedEvent] = []
        while not events or events[-1].type not in (
            "masterplan_generation_complete",
            "masterplan_generation_failed",
        ):
            events.append(await client.next_event(60))
    types = [e.type for e in events]
    assert ack["generation_id"] is not None
    assert types[0] == "discovery_start" and "discovery_complete" in types
    assert types[-1] == "masterplan_generation_complete", events[-1].payload
    assert events[-1].payload["generation_id"] == ack["generation_id"]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
