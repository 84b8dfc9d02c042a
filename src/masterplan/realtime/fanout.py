"""Carrying committed events between processes through Redis, with python-socketio's managers.

Every process that commits events (API, worker, CLI) publishes them through a write-only
`socketio.RedisManager` from a background thread, so a commit never waits on Redis. The API process's
Socket.IO server uses `RelayRedisManager`, which hands those messages to the hub (ordering, replay)
instead of emitting them blindly; ordinary cross-process Socket.IO emits still work as usual.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import uuid
from collections.abc import Callable
from typing import Any

import socketio
import structlog

from masterplan.events import StoredEvent
from masterplan.runtime import Runtime

log = structlog.get_logger(__name__)

CHANNEL = "masterplan-events"
RELAY_EVENT = "masterplan:committed"
_STOP = object()


class RedisEventPublisher:
    """Publishes batches of committed events to Redis from one thread, in the order they were handed over."""

    def __init__(self, redis_url: str, channel: str = CHANNEL) -> None:
        self._manager = socketio.RedisManager(redis_url, channel=channel, write_only=True)
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="masterplan-redis-publisher", daemon=True)
        self._thread.start()

    def __call__(self, events: list[StoredEvent]) -> None:
        self._queue.put([e.model_dump(mode="json") for e in events])

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is _STOP:
                return
            try:
                self._manager.emit(RELAY_EVENT, batch, namespace="/")
            except Exception:
                log.exception("redis_publish_failed")

    def close(self, timeout: float = 5.0) -> None:
        """Publish what is queued, then stop the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)


def install_redis_publishing(runtime: Runtime) -> RedisEventPublisher | None:
    """When MASTERPLAN_REDIS_URL is set, publish this runtime's committed events to Redis."""
    if not runtime.settings.redis_url:
        return None
    publisher = RedisEventPublisher(runtime.settings.redis_url)
    unsubscribe = runtime.bus.subscribe(publisher)

    def close() -> None:
        unsubscribe()
        publisher.close()

    runtime.on_close.append(close)
    return publisher


class RelayRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """Socket.IO's Redis manager, with committed events from other processes routed to the hub."""

    def __init__(self, redis_url: str, on_events: Callable[[list[StoredEvent]], None]) -> None:
        super().__init__(redis_url, channel=CHANNEL)
        self._on_events = on_events
        self._pings: dict[str, asyncio.Event] = {}

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("event") != RELAY_EVENT:
            await super()._handle_emit(message)
            return
        data = message.get("data") or [[]]
        batch = data[0] if isinstance(data, list) else data
        if isinstance(batch, dict) and "ping" in batch:
            ping = self._pings.get(str(batch["ping"]))
            if ping is not None:
                ping.set()
            return
        try:
            events = [StoredEvent.model_validate(item) for item in batch]
        except Exception:
            log.exception("relay_message_invalid")
            return
        self._on_events(events)

    async def wait_subscribed(self, within_seconds: float = 5.0) -> bool:
        """Ping ourselves through Redis until the subscription is live (events are not missed after)."""
        from redis import asyncio as aioredis

        token = uuid.uuid4().hex
        received = self._pings[token] = asyncio.Event()
        message = {"method": "emit", "event": RELAY_EVENT, "data": [{"ping": token}], "namespace": "/"}
        message["host_id"] = "ping-" + token
        client = aioredis.Redis.from_url(self.redis_url)
        try:
            deadline = asyncio.get_running_loop().time() + within_seconds
            while asyncio.get_running_loop().time() < deadline:
                await client.publish(self.channel, self.json.dumps(message))
                try:
                    await asyncio.wait_for(received.wait(), 0.1)
                    return True
                except TimeoutError:
                    continue
            return False
        except Exception:
            log.exception("redis_unreachable", url=self.redis_url)
            return False
        finally:
            self._pings.pop(token, None)
            await client.aclose()
