"""Conversation rules: owner scoping, messages, and the events announcing replies. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.conversations.schemas import MessageRole
from masterplan.errors import NotFound
from masterplan.events.schemas import MessageChunk, MessageComplete
from masterplan.events.store import conversation_stream, record_event
from masterplan.models import Conversation, Message, User

MASTERPLAN_COMMAND = "/masterplan"
HISTORY_MESSAGES = 20


def create_conversation(session: Session, user: User, title: str = "") -> Conversation:
    conversation = Conversation(id=uuid.uuid4(), owner_id=user.id, title=title.strip()[:300])
    session.add(conversation)
    session.flush()
    return conversation


def get_conversation(session: Session, user: User | uuid.UUID, conversation_id: uuid.UUID) -> Conversation:
    """The user's own conversation (admins see all); anyone else's is reported like an unknown one."""
    stmt = select(Conversation).where(Conversation.id == conversation_id)
    if isinstance(user, uuid.UUID) or user.role != "admin":
        owner_id = user if isinstance(user, uuid.UUID) else user.id
        stmt = stmt.where(Conversation.owner_id == owner_id)
    conversation = session.scalars(stmt).one_or_none()
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found", code="conversation_not_found")
    return conversation


def list_conversations(session: Session, user: User, limit: int = 100) -> Sequence[Conversation]:
    return session.scalars(
        select(Conversation)
        .where(Conversation.owner_id == user.id)
        .order_by(Conversation.updated_at.desc(), Conversation.id)
        .limit(limit)
    ).all()


def list_messages(session: Session, conversation_id: uuid.UUID, limit: int = 500) -> Sequence[Message]:
    """Messages oldest first (the newest `limit`)."""
    rows = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at.desc(), Message.id)
        .limit(limit)
    ).all()
    return list(reversed(rows))


def add_message(
    session: Session,
    conversation: Conversation,
    role: MessageRole,
    content: str,
    *,
    masterplan_id: uuid.UUID | None = None,
    generation_id: uuid.UUID | None = None,
    message_id: uuid.UUID | None = None,
) -> Message:
    """Store a message; the first user message names an untitled conversation."""
    message = Message(
        id=message_id or uuid.uuid4(),
        conversation_id=conversation.id,
        role=role,
        content=content,
        masterplan_id=masterplan_id,
        generation_id=generation_id,
    )
    session.add(message)
    if role == "user" and not conversation.title:
        conversation.title = content.strip().removeprefix(MASTERPLAN_COMMAND).strip()[:80] or "Conversation"
    conversation.updated_at = datetime.now(UTC)
    session.flush()
    return message


def masterplan_request(content: str) -> str | None:
    """The request of a `/masterplan <request>` message, or None for any other message."""
    text = content.strip()
    if (
        text == MASTERPLAN_COMMAND
        or text.startswith(MASTERPLAN_COMMAND + " ")
        or text.startswith(MASTERPLAN_COMMAND + "\n")
    ):
        return text[len(MASTERPLAN_COMMAND) :].strip()
    return None


def record_chunk(session: Session, conversation_id: uuid.UUID, message_id: uuid.UUID, delta: str) -> None:
    payload = MessageChunk(conversation_id=conversation_id, message_id=message_id, delta=delta)
    record_event(session, conversation_stream(conversation_id), "message_chunk", payload)


def record_message_complete(session: Session, message: Message, *, trace_id: str = "") -> None:
    payload = MessageComplete(
        conversation_id=message.conversation_id,
        message_id=message.id,
        role=message.role,
        content=message.content,
        generation_id=message.generation_id,
        masterplan_id=message.masterplan_id,
    )
    record_event(
        session,
        conversation_stream(message.conversation_id),
        "message_complete",
        payload,
        trace_id=trace_id,
        masterplan_id=message.masterplan_id,
    )
