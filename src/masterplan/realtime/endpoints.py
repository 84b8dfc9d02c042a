"""The stored event log over HTTP, for polling clients: the same stream the sockets carry."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from masterplan.conversations import service as conversations
from masterplan.deps import CurrentUser, SessionDep
from masterplan.events import conversation_stream, events_after, plan_stream
from masterplan.plans import repository

router = APIRouter(tags=["events"])

AfterSeq = Annotated[int, Query(ge=0, description="Return events with a larger seq (0: from the start).")]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many events.")]


class Event(BaseModel):
    stream: str
    seq: int
    type: str
    payload: dict[str, Any]
    timestamp: datetime
    trace_id: str


class EventList(BaseModel):
    items: list[Event]
    last_seq: int
    has_more: bool


def page_of(session: SessionDep, stream: str, after_seq: int, limit: int) -> EventList:
    events = events_after(session, stream, after_seq, limit + 1)
    items = [Event.model_validate(e.model_dump()) for e in events[:limit]]
    return EventList(
        items=items, last_seq=items[-1].seq if items else after_seq, has_more=len(events) > limit
    )


@router.get("/masterplans/{plan_id}/events", response_model=EventList)
def plan_events(
    plan_id: uuid.UUID, session: SessionDep, user: CurrentUser, after_seq: AfterSeq = 0, limit: Limit = 500
) -> EventList:
    """Stored events of a plan after a sequence number, in order (page with `last_seq`)."""
    repository.get_plan(session, user, plan_id)
    return page_of(session, plan_stream(plan_id), after_seq, limit)


@router.get("/conversations/{conversation_id}/events", response_model=EventList)
def conversation_events(
    conversation_id: uuid.UUID,
    session: SessionDep,
    user: CurrentUser,
    after_seq: AfterSeq = 0,
    limit: Limit = 500,
) -> EventList:
    """Stored events of a conversation (chat and generation) after a sequence number, in order."""
    conversations.get_conversation(session, user, conversation_id)
    return page_of(session, conversation_stream(conversation_id), after_seq, limit)
