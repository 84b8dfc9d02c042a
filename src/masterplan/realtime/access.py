"""Who may see which stream, and reading the log for the hub (synchronous; run in a thread)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.auth.tokens import user_for_token
from masterplan.conversations import service as conversations
from masterplan.errors import Unauthorized
from masterplan.events import StoredEvent, conversation_stream, events_after, plan_stream
from masterplan.models import EventStream, User
from masterplan.plans import repository
from masterplan.runtime import Runtime


@dataclass(frozen=True)
class Viewer:
    """The user behind a socket, kept for the connection's lifetime."""

    user_id: uuid.UUID
    email: str
    role: str


def viewer_for_token(runtime: Runtime, token: str) -> Viewer:
    """The user a token belongs to; Unauthorized when it is missing, unknown or revoked."""
    if not token:
        raise Unauthorized("authentication required: connect with auth={'token': '<your API token>'}")
    with runtime.reading() as session:
        user = user_for_token(session, token)
        if user is None:
            raise Unauthorized("the token is unknown, revoked or belongs to a disabled user")
        return Viewer(user.id, user.email, user.role)


def active_user(session: Session, viewer: Viewer) -> User:
    user = session.get(User, viewer.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("this user has been disabled; reconnect with a valid token")
    return user


def authorize_stream(runtime: Runtime, viewer: Viewer, kind: str, object_id: uuid.UUID) -> str:
    """The stream name of a plan or conversation the viewer may watch; NotFound otherwise."""
    with runtime.reading() as session:
        user = active_user(session, viewer)
        if kind == "masterplan":
            repository.get_plan(session, user, object_id)
            return plan_stream(object_id)
        conversations.get_conversation(session, user, object_id)
        return conversation_stream(object_id)


def read_log(runtime: Runtime, stream: str, after_seq: int, limit: int) -> list[StoredEvent]:
    with runtime.reading() as session:
        return events_after(session, stream, after_seq, limit)


def read_heads(runtime: Runtime, streams: list[str]) -> dict[str, int]:
    """The last seq handed out per stream (0 for a stream without events)."""
    with runtime.reading() as session:
        rows = session.execute(
            select(EventStream.stream, EventStream.last_seq).where(EventStream.stream.in_(streams))
        ).all()
    heads = dict.fromkeys(streams, 0)
    heads.update({stream: int(seq) for stream, seq in rows})
    return heads
