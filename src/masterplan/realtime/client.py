"""Python client for scripts, tests and `masterplan watch`: connect, join with replay, iterate events.

    async with RealtimeClient("http://127.0.0.1:8000", token) as client:
        await client.join_masterplan(plan_id, last_seq=0)
        async for event in client.events():
            print(event.seq, event.type)

After a dropped connection the client reconnects and rejoins every room with the last seq it saw,
so the server replays exactly what was missed.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import socketio

from masterplan.events.schemas import EventPayload, parse_event
from masterplan.realtime.schemas import SOCKETIO_PATH


class RealtimeError(Exception):
    """The server refused the connection or a request; `code` says why (e.g. unauthorized)."""

    def __init__(self, message: str, code: str = "error", details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details


@dataclass(frozen=True)
class ReceivedEvent:
    type: str
    stream: str
    seq: int
    payload: dict[str, Any]
    received_at: float = field(default_factory=time.time)

    def typed(self) -> EventPayload:
        """The payload as its schema from events.schemas."""
        return parse_event(self.type, self.payload)


@dataclass
class _Room:
    kind: str
    object_id: str
    last_seq: int | None


class RealtimeClient:
    """One Socket.IO connection to a masterplan server."""

    def __init__(
        self, url: str, token: str, *, reconnect: bool = True, request_timeout: float = 30.0
    ) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._timeout = request_timeout
        self._sio = socketio.AsyncClient(reconnection=reconnect, logger=False, engineio_logger=False)
        self._queue: asyncio.Queue[ReceivedEvent | None] = asyncio.Queue()
        self._rooms: dict[str, _Room] = {}
        self._refusal: dict[str, Any] | None = None
        self._connected_once = False
        self._sio.on("connect", self._on_connect)
        self._sio.on("connect_error", self._on_connect_error)
        self._sio.on("*", self._on_event)

    async def __aenter__(self) -> RealtimeClient:
        await self.connect()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return bool(self._sio.connected)

    async def connect(self) -> None:
        """Open the connection; RealtimeError with the server's reason when it is refused."""
        self._refusal = None
        try:
            await self._sio.connect(
                self.url,
                auth={"token": self._token},
                transports=["websocket"],
                socketio_path=SOCKETIO_PATH,
                wait_timeout=self._timeout,
            )
        except socketio.exceptions.ConnectionError as exc:
            await self._sio.eio._reset()  # closes the HTTP session a failed attempt leaves open
            refusal: dict[str, Any] = self._refusal or {}
            data = refusal.get("data") if isinstance(refusal.get("data"), dict) else {}
            message = str(refusal.get("message") or exc)
            raise RealtimeError(message, code=str((data or {}).get("code", "connection_failed"))) from None

    async def close(self) -> None:
        """Disconnect and end `events()`."""
        await self._sio.disconnect()
        self._queue.put_nowait(None)

    # --- rooms ---

    async def join_masterplan(
        self, masterplan_id: uuid.UUID | str, last_seq: int | None = None
    ) -> dict[str, Any]:
        """Join a plan's room; with last_seq, stored events after it arrive first, in order."""
        return await self._join("masterplan", str(masterplan_id), last_seq)

    async def join_conversation(
        self, conversation_id: uuid.UUID | str, last_seq: int | None = None
    ) -> dict[str, Any]:
        """Join a conversation's room (chat replies and generation progress)."""
        return await self._join("conversation", str(conversation_id), last_seq)

    async def leave_masterplan(self, masterplan_id: uuid.UUID | str) -> dict[str, Any]:
        self._rooms.pop(f"masterplan:{_canonical(str(masterplan_id))}", None)
        return await self.request("leave_masterplan", {"masterplan_id": str(masterplan_id)})

    async def leave_conversation(self, conversation_id: uuid.UUID | str) -> dict[str, Any]:
        self._rooms.pop(f"conversation:{_canonical(str(conversation_id))}", None)
        return await self.request("leave_conversation", {"conversation_id": str(conversation_id)})

    async def send_message(self, conversation_id: uuid.UUID | str, content: str) -> dict[str, Any]:
        """Post a chat message; the reply streams as message_chunk then message_complete events."""
        return await self.request(
            "send_message", {"conversation_id": str(conversation_id), "content": content}
        )

    def last_seq(self, stream: str) -> int:
        """The highest seq received on a stream (0 when none)."""
        room = self._rooms.get(stream)
        return (room.last_seq or 0) if room else 0

    async def _join(self, kind: str, object_id: str, last_seq: int | None) -> dict[str, Any]:
        room = self._rooms.setdefault(f"{kind}:{_canonical(object_id)}", _Room(kind, object_id, last_seq))
        ack = await self.request(f"join_{kind}", {f"{kind}_id": object_id, "last_seq": last_seq})
        room.last_seq = max(room.last_seq or 0, int(ack["last_seq"]))
        return ack

    async def request(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Send a client event and return its acknowledgement; RealtimeError when it reports an error."""
        ack = await self._sio.call(event, data, timeout=self._timeout)
        if not isinstance(ack, dict):
            raise RealtimeError(f"unexpected acknowledgement of {event}: {ack!r}")
        if not ack.get("ok"):
            error = ack.get("error") or {}
            raise RealtimeError(
                str(error.get("message", "request failed")),
                str(error.get("code", "error")),
                error.get("details"),
            )
        return ack

    # --- events ---

    async def events(self) -> AsyncIterator[ReceivedEvent]:
        """Every server event, in arrival order, until close()."""
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    async def next_event(self, wait_seconds: float = 10.0) -> ReceivedEvent:
        """The next event; TimeoutError when none arrives in time."""
        event = await asyncio.wait_for(self._queue.get(), wait_seconds)
        if event is None:
            raise RealtimeError("the client was closed", code="closed")
        return event

    async def _on_event(self, event: str, data: Any = None) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("seq"), int):
            return
        stream = str(data.get("stream", ""))
        received = ReceivedEvent(type=event, stream=stream, seq=int(data["seq"]), payload=data)
        room = self._rooms.get(stream)
        if room is not None:
            room.last_seq = max(room.last_seq or 0, received.seq)
        self._queue.put_nowait(received)

    async def _on_connect(self) -> None:
        if self._connected_once and self._rooms:
            self._sio.start_background_task(self._rejoin)
        self._connected_once = True

    async def _on_connect_error(self, data: Any = None) -> None:
        self._refusal = data if isinstance(data, dict) else {"message": str(data)}

    async def _rejoin(self) -> None:
        for room in list(self._rooms.values()):
            try:
                await self._join(room.kind, room.object_id, room.last_seq or 0)
            except (RealtimeError, socketio.exceptions.SocketIOError):
                continue


def _canonical(object_id: str) -> str:
    try:
        return str(uuid.UUID(object_id))
    except ValueError:
        return object_id
