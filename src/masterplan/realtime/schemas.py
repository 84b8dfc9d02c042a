"""Payloads of the client events and of their acknowledgements."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SOCKETIO_PATH = "socket.io"


class ClientRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")


class JoinMasterplan(ClientRequest):
    masterplan_id: uuid.UUID
    last_seq: int | None = Field(
        None, ge=0, description="Replay stored events after this seq; omit for live only."
    )


class LeaveMasterplan(ClientRequest):
    masterplan_id: uuid.UUID


class JoinConversation(ClientRequest):
    conversation_id: uuid.UUID
    last_seq: int | None = Field(None, ge=0)


class LeaveConversation(ClientRequest):
    conversation_id: uuid.UUID


class SendMessage(ClientRequest):
    conversation_id: uuid.UUID
    content: str = Field(min_length=1, max_length=20_000, description="Text, or `/masterplan <request>`.")
    model: str | None = Field(None, max_length=300, description="Model for this reply or generation.")


class AckError(BaseModel):
    code: str
    message: str
    details: Any = None


def ack_error(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The acknowledgement of a refused client event."""
    return {"ok": False, "error": AckError(code=code, message=message, details=details).model_dump()}
