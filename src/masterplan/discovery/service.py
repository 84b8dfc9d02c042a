"""Storing discovery documents and their events. Services never commit; the caller's transaction does."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.discovery.schemas import DiscoveryOutput
from masterplan.errors import NotFound
from masterplan.events.schemas import DiscoveryEvent
from masterplan.events.store import conversation_stream, record_event
from masterplan.llm.usage import CallUsage
from masterplan.models import DiscoveryDocument, User


def store_discovery(
    session: Session,
    *,
    owner_id: uuid.UUID,
    request_text: str,
    output: DiscoveryOutput,
    usage: CallUsage,
    conversation_id: uuid.UUID | None = None,
    session_id: str = "",
    trace_id: str = "",
) -> DiscoveryDocument:
    """Store the analysis with its owner, conversation, model, tokens and cost."""
    data = output.model_dump(mode="json")
    document = DiscoveryDocument(
        id=uuid.uuid4(),
        owner_id=owner_id,
        conversation_id=conversation_id,
        session_id=session_id,
        request_text=request_text,
        domain=output.domain,
        bounded_contexts=data["bounded_contexts"],
        aggregates=data["aggregates"],
        value_objects=data["value_objects"],
        domain_events=data["domain_events"],
        services=data["services"],
        assumptions=data["assumptions"],
        clarifications_needed=data["clarifications_needed"],
        risk_factors=data["risk_factors"],
        llm_model=usage.model,
        cost_usd=usage.cost_usd,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        trace_id=trace_id,
    )
    session.add(document)
    session.flush()
    return document


def record_discovery_event(session: Session, payload: DiscoveryEvent, *, trace_id: str = "") -> None:
    """discovery_start / _progress / _complete (by the payload's type) on the conversation's stream."""
    assert payload.conversation_id is not None
    record_event(
        session, conversation_stream(payload.conversation_id), payload.event_type, payload, trace_id=trace_id
    )


def get_discovery(session: Session, user: User, discovery_id: uuid.UUID) -> DiscoveryDocument:
    """The document if the user owns it (admins see all); otherwise 404 like an unknown id."""
    stmt = select(DiscoveryDocument).where(DiscoveryDocument.id == discovery_id)
    if user.role != "admin":
        stmt = stmt.where(DiscoveryDocument.owner_id == user.id)
    document = session.scalars(stmt).one_or_none()
    if document is None:
        raise NotFound(f"discovery document {discovery_id} not found", code="discovery_not_found")
    return document
