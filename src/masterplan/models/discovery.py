"""The domain analysis an LLM derives from a request, before any plan exists."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from masterplan.models.base import Base, IdMixin, TimestampMixin


class DiscoveryDocument(IdMixin, TimestampMixin, Base):
    __tablename__ = "discovery_documents"

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    session_id: Mapped[str] = mapped_column(String(100), default="")
    request_text: Mapped[str] = mapped_column(Text)
    domain: Mapped[str] = mapped_column(String(300), default="")
    bounded_contexts: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    aggregates: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    value_objects: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    domain_events: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    services: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    assumptions: Mapped[list[str]] = mapped_column(default=list)
    clarifications_needed: Mapped[list[str]] = mapped_column(default=list)
    risk_factors: Mapped[list[str]] = mapped_column(default=list)
    llm_model: Mapped[str] = mapped_column(String(200), default="")
    cost_usd: Mapped[float | None]
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    trace_id: Mapped[str] = mapped_column(String(64), default="")
