"""Writing and reading the per-stream event log."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from masterplan.events.schemas import EventPayload, event_body
from masterplan.models import EventStream, ExecutionEvent

PENDING_KEY = "masterplan.pending_events"
UNNUMBERED_KEY = "masterplan.unnumbered_events"
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


def _upsert_seq(dialect: str) -> Any:
    upsert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    return (
        upsert(EventStream)
        .values(stream=bindparam("b_stream"), last_seq=bindparam("b_count"))
        .on_conflict_do_update(
            index_elements=[EventStream.stream],
            set_={"last_seq": EventStream.last_seq + bindparam("b_count")},
        )
        .returning(EventStream.last_seq)
    )


# Built once (an event is stored in nearly every write of the engine; building the statement cost more
# than running it).
_UPSERT_SEQ = {dialect: _upsert_seq(dialect) for dialect in ("sqlite", "postgresql")}


def _reserve_seqs(session: Session, stream: str, count: int) -> int:
    """Take the next `count` sequence numbers of a stream; returns the last of them."""
    connection = session.connection()  # not the ORM's insert path: it would flush the session first
    upsert = _UPSERT_SEQ.get(connection.dialect.name)
    if upsert is not None:
        return int(connection.execute(upsert, {"b_stream": stream, "b_count": count}).scalar_one())
    last = connection.execute(
        update(EventStream)
        .where(EventStream.stream == stream)
        .values(last_seq=EventStream.last_seq + count)
        .returning(EventStream.last_seq)
    ).scalar_one_or_none()
    if last is None:
        connection.execute(insert(EventStream).values(stream=stream, last_seq=count))
        return count
    return int(last)


def write_events(session: Session) -> None:
    """Store the events recorded since the last write: one sequence reservation per stream and one
    multi-row insert (no ORM rows: their unit of work cost more than the statements).

    Runs before every flush and commit. Inside a SAVEPOINT it waits (the events stay recorded), so a
    savepoint that rolls back drops exactly its own events (see execution.writer).
    """
    if session.in_nested_transaction():
        return
    waiting: list[tuple[dict[str, Any], StoredEvent]] = session.info.pop(UNNUMBERED_KEY, [])
    if not waiting:
        return
    by_stream: dict[str, list[tuple[dict[str, Any], StoredEvent]]] = {}
    for values, stored in waiting:
        by_stream.setdefault(values["stream"], []).append((values, stored))
    rows: list[dict[str, Any]] = []
    for stream, items in by_stream.items():
        first = _reserve_seqs(session, stream, len(items)) - len(items) + 1
        for offset, (values, stored) in enumerate(items):
            values["seq"] = stored.seq = first + offset
            values["payload"]["seq"] = stored.payload["seq"] = first + offset
            rows.append(values)
    session.connection().execute(_INSERT_EVENT, rows)


_INSERT_EVENT = insert(ExecutionEvent)


@event.listens_for(Session, "before_flush")
def _write_before_flush(session: Session, _context: object, _instances: object) -> None:
    write_events(session)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    write_events(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:  # a savepoint drops only its own events (execution.writer)
        session.info.pop(UNNUMBERED_KEY, None)


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
    masterplan_id, seq, timestamp, trace_id, and conversation_id on conversation streams. The event is
    written, with its sequence number, at the next flush (at the latest when the transaction commits).
    """
    body = event_body(event_type, payload)
    now = datetime.now(UTC)
    full = {
        **body,
        "masterplan_id": str(masterplan_id) if masterplan_id else body.get("masterplan_id"),
        "seq": 0,
        "timestamp": now.isoformat(),
        "trace_id": trace_id,
    }
    if stream.startswith(CONVERSATION_PREFIX) and not full.get("conversation_id"):
        full["conversation_id"] = stream[len(CONVERSATION_PREFIX) :]
    values = {
        "stream": stream,
        "seq": 0,
        "type": event_type,
        "payload": full,
        "trace_id": trace_id,
        "created_at": now,
    }
    stored = StoredEvent(
        stream=stream, seq=0, type=event_type, payload=dict(full), trace_id=trace_id, timestamp=now
    )
    session.info.setdefault(UNNUMBERED_KEY, []).append((values, stored))
    session.info.setdefault(PENDING_KEY, []).append(stored)
    return stored


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
