"""The Socket.IO server, served by the same ASGI app as the API (`create_asgi_app`)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs

import socketio
import structlog
from engineio import packet as eio_packet
from pydantic import BaseModel, ValidationError
from socketio import packet as sio_packet
from starlette.types import ASGIApp

from masterplan.config import Settings
from masterplan.errors import DomainError
from masterplan.events import StoredEvent
from masterplan.realtime import access, pgnotify
from masterplan.realtime.access import Viewer
from masterplan.realtime.fanout import RelayRedisManager
from masterplan.realtime.hub import Hub
from masterplan.realtime.schemas import (
    SOCKETIO_PATH,
    ClientRequest,
    JoinConversation,
    JoinMasterplan,
    LeaveConversation,
    LeaveMasterplan,
    SendMessage,
    ack_error,
)
from masterplan.runtime import Runtime

log = structlog.get_logger(__name__)
Request = TypeVar("Request", bound=ClientRequest)
Handler = Callable[[str, Any], Awaitable[dict[str, Any]]]


class _SioTransport:
    """Hub deliveries go to this process's sockets only; other processes get events from Redis."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self._sio = sio
        self.on_sent: Callable[[int], None] | None = None  # counts deliveries (Prometheus)

    async def emit(self, event_type: str, data: dict[str, Any], to: str) -> None:
        # What AsyncManager.emit does, minus a task per recipient: encode once, queue on each socket.
        pkt = self._sio.packet_class(sio_packet.EVENT, namespace="/", data=[event_type, data])
        encoded = pkt.encode()
        frames = [
            eio_packet.Packet(eio_packet.MESSAGE, p)
            for p in ([encoded] if isinstance(encoded, str) else encoded)
        ]
        sent = 0
        for _sid, eio_sid in self._sio.manager.get_participants("/", to):
            sent += 1
            for frame in frames:
                await self._sio.eio.send_packet(eio_sid, frame)
        if sent and self.on_sent is not None:
            self.on_sent(sent)

    async def enter_room(self, sid: str, room: str) -> None:
        await self._sio.enter_room(sid, room)

    async def leave_room(self, sid: str, room: str) -> None:
        await self._sio.leave_room(sid, room)


def token_of(environ: dict[str, Any], auth: Any) -> str:
    """The bearer token from `auth={"token": ...}`, an Authorization header, or `?token=`."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return str(auth["token"])
    header = str(environ.get("HTTP_AUTHORIZATION", ""))
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    query = parse_qs(str(environ.get("QUERY_STRING", "")))
    return query.get("token", [""])[0]


class RealtimeServer:
    """Socket.IO handlers, the hub and the fan-out for one API process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._runtime: Runtime | None = None
        self._viewers: dict[str, Viewer] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._listener: asyncio.Task[None] | None = None
        manager = RelayRedisManager(settings.redis_url, self._relayed) if settings.redis_url else None
        self._manager = manager
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            client_manager=manager,
            cors_allowed_origins=self._origin_allowed,
            logger=False,
            engineio_logger=False,
        )
        self._transport = _SioTransport(self.sio)
        self.hub = Hub(
            self._transport,
            self._read_log,
            self._read_heads,
            reconcile_seconds=settings.events_poll_seconds,
        )
        self._register()

    def _origin_allowed(self, origin: str | None, environ: dict[str, Any]) -> bool:
        """Browsers may connect from this server's own origin or from MASTERPLAN_CORS_ORIGINS."""
        allowed = self.settings.cors_origins
        if origin is None or "*" in allowed or origin in allowed:
            return True
        hosts = {environ.get("HTTP_HOST"), environ.get("HTTP_X_FORWARDED_HOST")}
        return origin.split("://", 1)[-1] in hosts

    # --- lifecycle ---

    async def start(self, runtime: Runtime) -> None:
        """Start delivering the runtime's committed events (and, with Redis, other processes' events)."""
        self._runtime = runtime
        self._transport.on_sent = runtime.metrics.events_sent.inc
        await self.hub.start()
        self._unsubscribe = runtime.bus.subscribe(self.hub.receive_threadsafe)
        if self._manager is not None:
            self.sio.manager_initialized = True
            self._manager.initialize()
            if not await self._manager.wait_subscribed():
                log.warning(
                    "redis_fanout_unavailable", detail="events from other processes arrive by polling"
                )
        elif pgnotify.uses_postgres_notifications(runtime):
            listening = asyncio.Event()
            self._listener = asyncio.create_task(
                pgnotify.listen(runtime, self.hub.receive, self.hub.hint, listening)
            )
            await asyncio.wait_for(listening.wait(), 10)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.hub.stop()
        thread = getattr(self._manager, "thread", None)
        if isinstance(thread, asyncio.Task):
            thread.cancel()
        await self.sio.shutdown()

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("the realtime server has not been started")
        return self._runtime

    def _relayed(self, events: list[StoredEvent]) -> None:
        self.hub.receive(events)

    async def _read_log(self, stream: str, after_seq: int, limit: int) -> list[StoredEvent]:
        return await asyncio.to_thread(access.read_log, self.runtime, stream, after_seq, limit)

    async def _read_heads(self, streams: list[str]) -> dict[str, int]:
        return await asyncio.to_thread(access.read_heads, self.runtime, streams)

    # --- handlers ---

    def _register(self) -> None:
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        handlers: dict[str, Handler] = {
            "join_masterplan": self._guarded(JoinMasterplan, self._join_masterplan),
            "leave_masterplan": self._guarded(LeaveMasterplan, self._leave_masterplan),
            "join_conversation": self._guarded(JoinConversation, self._join_conversation),
            "leave_conversation": self._guarded(LeaveConversation, self._leave_conversation),
            "send_message": self._guarded(SendMessage, self._send_message),
        }
        for name, handler in handlers.items():
            self.sio.on(name, handler)

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            viewer = await asyncio.to_thread(access.viewer_for_token, self.runtime, token_of(environ, auth))
        except DomainError as exc:
            raise socketio.exceptions.ConnectionRefusedError(exc.message, {"code": exc.code}) from None
        self._viewers[sid] = viewer
        self.runtime.metrics.socket_connections.inc()

    async def _disconnect(self, sid: str, *_reason: Any) -> None:
        if self._viewers.pop(sid, None) is not None:
            self.runtime.metrics.socket_connections.dec()
        await self.hub.leave_all(sid)

    def _guarded(
        self, schema: type[Request], handler: Callable[[str, Viewer, Request], Awaitable[dict[str, Any]]]
    ) -> Handler:
        """Validate the payload, find the viewer, and turn errors into an error acknowledgement."""

        async def run(sid: str, data: Any = None) -> dict[str, Any]:
            viewer = self._viewers.get(sid)
            if viewer is None:
                return ack_error("unauthorized", "not connected with a valid token")
            try:
                request = schema.model_validate(data if isinstance(data, dict) else {})
            except ValidationError as exc:
                problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
                return ack_error("invalid_request", f"invalid {schema.__name__} payload", problems)
            try:
                return await handler(sid, viewer, request)
            except DomainError as exc:
                return ack_error(exc.code, exc.message, exc.details)
            except Exception:
                log.exception("socket_handler_failed", handler=handler.__name__)
                return ack_error("internal_error", "the server failed to handle this event")

        return run

    async def _join(
        self, sid: str, viewer: Viewer, kind: str, object_id: uuid.UUID, last_seq: int | None
    ) -> dict[str, Any]:
        stream = await asyncio.to_thread(access.authorize_stream, self.runtime, viewer, kind, object_id)
        result = await self.hub.join(sid, stream, last_seq)
        return {"ok": True, "stream": result.stream, "replayed": result.replayed, "last_seq": result.last_seq}

    async def _join_masterplan(self, sid: str, viewer: Viewer, request: JoinMasterplan) -> dict[str, Any]:
        return await self._join(sid, viewer, "masterplan", request.masterplan_id, request.last_seq)

    async def _join_conversation(self, sid: str, viewer: Viewer, request: JoinConversation) -> dict[str, Any]:
        return await self._join(sid, viewer, "conversation", request.conversation_id, request.last_seq)

    async def _leave_masterplan(self, sid: str, _viewer: Viewer, request: LeaveMasterplan) -> dict[str, Any]:
        left = await self.hub.leave(sid, f"masterplan:{request.masterplan_id}")
        return {"ok": True, "left": left}

    async def _leave_conversation(
        self, sid: str, _viewer: Viewer, request: LeaveConversation
    ) -> dict[str, Any]:
        left = await self.hub.leave(sid, f"conversation:{request.conversation_id}")
        return {"ok": True, "left": left}

    async def _send_message(self, _sid: str, viewer: Viewer, request: SendMessage) -> dict[str, Any]:
        """Chat: exactly what POST /conversations/{id}/messages does; the reply streams into the room."""
        response = await asyncio.to_thread(_post_message, self.runtime, viewer, request)
        return {"ok": True, **response.model_dump(mode="json")}


def _post_message(runtime: Runtime, viewer: Viewer, request: SendMessage) -> BaseModel:
    # The conversations API owns sending (store, commit, launch the reply or generation); reuse it whole.
    from masterplan.conversations.endpoints import post_message
    from masterplan.conversations.schemas import SendMessageRequest

    body = SendMessageRequest(content=request.content, model=request.model)
    with runtime.transaction() as session:
        user = access.active_user(session, viewer)
        return post_message(request.conversation_id, body, session, runtime, user)


def create_asgi_app(settings: Settings | None = None, runtime: Runtime | None = None) -> ASGIApp:
    """The API and Socket.IO (at /socket.io) in one ASGI app; `masterplan serve` runs this."""
    from masterplan.app import create_app

    api = create_app(settings, runtime)
    settings = settings or (runtime.settings if runtime else Settings())
    realtime = RealtimeServer(settings)
    api.state.realtime = realtime
    api_lifespan = api.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        async with api_lifespan(app) as state:
            await realtime.start(app.state.runtime)
            # Keep the startup heap out of the cyclic GC: a full pass over it stalls every socket ~0.2 s.
            gc.collect()
            gc.freeze()
            try:
                yield state
            finally:
                await realtime.stop()

    api.router.lifespan_context = lifespan
    return cast(ASGIApp, socketio.ASGIApp(realtime.sio, other_asgi_app=api, socketio_path=SOCKETIO_PATH))
