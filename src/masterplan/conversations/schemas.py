"""API and event shapes of conversations and messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MessageRole = Literal["user", "assistant", "system"]


class ConversationCreate(BaseModel):
    title: str = Field("", max_length=300)


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    created_at: datetime
    updated_at: datetime


class ConversationList(BaseModel):
    items: list[ConversationOut]


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    conversation_id: uuid.UUID
    role: MessageRole
    content: str
    masterplan_id: uuid.UUID | None
    generation_id: uuid.UUID | None
    created_at: datetime


class MessageList(BaseModel):
    items: list[MessageOut]


class SendMessageRequest(BaseModel):
    content: str = Field(min_length=1, max_length=20000, description="Text, or `/masterplan <request>`.")
    model: str | None = Field(None, max_length=300, description="Model for this reply or generation.")


class SendMessageResponse(BaseModel):
    """The stored user message; the reply follows as events and as a stored assistant message."""

    message: MessageOut
    generation_id: uuid.UUID | None = None
    masterplan_id: uuid.UUID | None = None
