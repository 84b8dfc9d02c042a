"""Writing and reading the per-stream event log."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from masterplan.events.schemas import EventPayload, event_body
from masterplan.models import EventStream, ExecutionEvent

PENDING_KEY = "masterplan.pending_events"
CONVERSATION_PREFIX = "conversation:"


class StoredEvent(BaseModel):
    stream: str
    seq: int
    type: str
    payload: dict[str, Any]
    trace_id: str
    timestamp: datetime


def plan_stream(masterplan_id: uuid.UUID | str) -> str:
    return f"masterplan:{masterplan_id}"


def conversation_stream(conversation_id: uuid.UUID | str) -> str:
    return f"{CONVERSATION_PREFIX}{conversation_id}"


def _next_seq(session: Session, stream: str) -> int:
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        stmt = (
            insert(EventStream)
            .values(stream=stream, last_seq=1)
            .on_conflict_do_update(
                index_elements=[EventStream.stream], set_={"last_seq": EventStream.last_seq + 1}
            )
            .returning(EventStream.last_seq)
        )
        # On the connection: the ORM's insert path would flush the session first, for nothing.
        return int(session.connection().execute(stmt).scalar_one())
    seq = session.execute(
        update(EventStream)
        .where(EventStream.stream == stream)
        .values(last_seq=EventStream.last_seq + 1)
        .returning(EventStream.last_seq)
    ).scalar_one_or_none()
    if seq is None:
        session.add(EventStream(stream=stream, last_seq=1))
        session.flush()
        return 1
    return int(seq)


def record_event(
    session: Session,
    stream: str,
    event_type: str,
    payload: Mapping[str, Any] | EventPayload,
    *,
    trace_id: str = "",
    masterplan_id: uuid.UUID | str | None = None,
) -> StoredEvent:
    """Store an event in the session's transaction; it is published after that transaction commits.

    The payload (a model from events.schemas, or a dict validated against it) gets the envelope:
    masterplan_id, seq, timestamp, trace_id, and conversation_id on conversation streams.
    """
    body = event_body(event_type, payload)
    seq = _next_seq(session, stream)
    now = datetime.now(UTC)
    full = {
        **body,
        "masterplan_id": str(masterplan_id) if masterplan_id else body.get("masterplan_id"),
        "seq": seq,
        "timestamp": now.isoformat(),
        "trace_id": trace_id,
    }
    if stream.startswith(CONVERSATION_PREFIX) and not full.get("conversation_id"):
        full["conversation_id"] = stream[len(CONVERSATION_PREFIX) :]
    session.add(
        ExecutionEvent(
            stream=stream, seq=seq, type=event_type, payload=full, trace_id=trace_id, created_at=now
        )
    )
    event = StoredEvent(
        stream=stream, seq=seq, type=event_type, payload=full, trace_id=trace_id, timestamp=now
    )
    session.info.setdefault(PENDING_KEY, []).append(event)
    return event


def events_after(session: Session, stream: str, after_seq: int = 0, limit: int = 1000) -> list[StoredEvent]:
    """Stored events of a stream with seq > after_seq, in order."""
    rows = session.scalars(
        select(ExecutionEvent)
        .where(ExecutionEvent.stream == stream, ExecutionEvent.seq > after_seq)
        .order_by(ExecutionEvent.seq)
        .limit(limit)
    ).all()
    return [
        StoredEvent(
            stream=r.stream,
            seq=r.seq,
            type=r.type,
            payload=r.payload,
            trace_id=r.trace_id,
            timestamp=r.created_at,
        )
        for r in rows
    ]
