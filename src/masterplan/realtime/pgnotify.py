"""Cross-process fan-out through PostgreSQL notifications, for deployments on PostgreSQL without Redis.

Writers send `pg_notify` inside the transaction that records the events, so the notification is
delivered exactly when the events commit and never when they roll back. API processes LISTEN and
hand what arrives to the hub. A notification carries the events themselves when they fit in
PostgreSQL's payload limit, else only their stream, and the hub reads the log.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from masterplan.events import StoredEvent
from masterplan.events.store import PENDING_KEY, write_events
from masterplan.runtime import Runtime

log = structlog.get_logger(__name__)

CHANNEL = "masterplan_events"
MAX_PAYLOAD = 7000  # PostgreSQL refuses payloads of 8000 bytes and more


def uses_postgres_notifications(runtime: Runtime) -> bool:
    """PostgreSQL carries events between processes when the database is PostgreSQL and Redis is not set."""
    return runtime.engine.dialect.name == "postgresql" and not runtime.settings.redis_url


def notification_payloads(events: list[StoredEvent]) -> list[str]:
    """JSON payloads under the size limit: batches of whole events, or a stream hint for a big one."""
    payloads: list[str] = []
    batch: list[str] = []
    size = 2
    for stored in events:
        item = stored.model_dump_json()
        if len(item) + 2 > MAX_PAYLOAD:
            item = json.dumps({"stream": stored.stream, "seq": stored.seq, "hint": True})
        if batch and size + len(item) + 1 > MAX_PAYLOAD:
            payloads.append("[" + ",".join(batch) + "]")
            batch, size = [], 2
        batch.append(item)
        size += len(item) + 1
    if batch:
        payloads.append("[" + ",".join(batch) + "]")
    return payloads


def install_postgres_notifications(runtime: Runtime) -> None:
    """Send a notification with each commit that recorded events (in the same transaction)."""

    def before_commit(session: Session) -> None:
        pending: list[StoredEvent] = session.info.get(PENDING_KEY, [])
        write_events(session)  # the events get their sequence numbers when they are written
        for payload in notification_payloads(pending):
            session.execute(
                text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
            )

    event.listen(runtime.session_factory, "before_commit", before_commit)
    runtime.on_close.append(lambda: event.remove(runtime.session_factory, "before_commit", before_commit))


def parse_notification(payload: str) -> tuple[list[StoredEvent], set[str]]:
    """The events a notification carries, and the streams it only hints at."""
    events: list[StoredEvent] = []
    hinted: set[str] = set()
    for item in json.loads(payload):
        if item.get("hint"):
            hinted.add(str(item["stream"]))
        else:
            events.append(StoredEvent.model_validate(item))
    return events, hinted


async def listen(
    runtime: Runtime,
    on_events: Callable[[list[StoredEvent]], None],
    on_hint: Callable[[str], None],
    ready: asyncio.Event,
) -> None:
    """LISTEN until cancelled, reconnecting after failures; `ready` is set once listening."""
    import psycopg

    url = runtime.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    backoff = 0.5
    while True:
        try:
            conn: Any = await psycopg.AsyncConnection.connect(url, autocommit=True)
            async with conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                ready.set()
                backoff = 0.5
                async for notify in conn.notifies():
                    try:
                        events, hinted = parse_notification(notify.payload)
                    except (ValueError, KeyError):
                        log.warning("pg_notification_invalid", payload=notify.payload[:200])
                        continue
                    if events:
                        on_events(events)
                    for stream in hinted:
                        on_hint(stream)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("pg_listen_failed", retry_in=backoff)
            ready.set()  # serve anyway; the periodic log check still delivers
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
