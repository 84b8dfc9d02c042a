"""Shapes of the discovery step: the model's answer, the stored document and its events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class BoundedContext(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    responsibilities: list[str] = Field(default_factory=list, max_length=20)


class Aggregate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    bounded_context: str = Field("", max_length=200)
    entities: list[str] = Field(default_factory=list, max_length=20)
    invariants: list[str] = Field(default_factory=list, max_length=20)


class ValueObject(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)


class DomainEvent(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    raised_by: str = Field("", max_length=200, description="The aggregate or service that raises it.")


class DomainService(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    operations: list[str] = Field(default_factory=list, max_length=20)


class DiscoveryOutput(BaseModel):
    """The discovery agent's answer: a domain-driven analysis of the request."""

    domain: str = Field(min_length=1, max_length=300, description="The business domain in a few words.")
    bounded_contexts: list[BoundedContext] = Field(default_factory=list, max_length=20)
    aggregates: list[Aggregate] = Field(default_factory=list, max_length=40)
    value_objects: list[ValueObject] = Field(default_factory=list, max_length=40)
    domain_events: list[DomainEvent] = Field(default_factory=list, max_length=40)
    services: list[DomainService] = Field(default_factory=list, max_length=40)
    assumptions: list[str] = Field(default_factory=list, max_length=30)
    clarifications_needed: list[str] = Field(default_factory=list, max_length=30)
    risk_factors: list[str] = Field(default_factory=list, max_length=30)


class DiscoveryOut(BaseModel):
    """A stored discovery document."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    conversation_id: uuid.UUID | None
    session_id: str
    request_text: str
    domain: str
    bounded_contexts: list[dict[str, Any]]
    aggregates: list[dict[str, Any]]
    value_objects: list[dict[str, Any]]
    domain_events: list[dict[str, Any]]
    services: list[dict[str, Any]]
    assumptions: list[str]
    clarifications_needed: list[str]
    risk_factors: list[str]
    llm_model: str
    cost_usd: float | None
    input_tokens: int
    output_tokens: int
    trace_id: str
    created_at: datetime
