"""Sending a message: store it, then either start a generation (`/masterplan <request>`) or a chat reply."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from masterplan.config import Settings
from masterplan.conversations import service
from masterplan.conversations.schemas import SendMessageRequest
from masterplan.errors import PlanValidationError
from masterplan.generation import service as generations
from masterplan.llm import resolve_model
from masterplan.llm.errors import model_errors
from masterplan.models import Generation, Message, User


@dataclass
class Sent:
    """The stored user message and what answers it: a generation, or a chat reply with a known id."""

    message: Message
    generation: Generation | None = None
    reply_id: uuid.UUID | None = None


def send_message(
    session: Session, user: User, conversation_id: uuid.UUID, body: SendMessageRequest, settings: Settings
) -> Sent:
    """Store the user's message and prepare its answer; the caller commits, then launches the work."""
    conversation = service.get_conversation(session, user, conversation_id)
    request = service.masterplan_request(body.content)
    if request is not None and len(request) < 3:
        raise PlanValidationError(
            ["say what to build after /masterplan, e.g. '/masterplan a todo API with users'"]
        )
    with model_errors():
        if request is not None:
            generation = generations.create_generation(
                session, user, request, settings, conversation=conversation, model=body.model
            )
            message = service.add_message(
                session, conversation, "user", body.content, generation_id=generation.id
            )
            return Sent(message=message, generation=generation)
        resolve_model("chat", settings, override=body.model)
    message = service.add_message(session, conversation, "user", body.content)
    return Sent(message=message, reply_id=uuid.uuid4())
