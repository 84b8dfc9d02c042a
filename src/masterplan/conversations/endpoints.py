"""Conversation endpoints: create and list conversations, list and send messages."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from masterplan.conversations import service
from masterplan.conversations.messaging import send_message
from masterplan.conversations.schemas import (
    ConversationCreate,
    ConversationList,
    ConversationOut,
    MessageList,
    MessageOut,
    SendMessageRequest,
    SendMessageResponse,
)
from masterplan.conversations.workflow import launch_chat_reply
from masterplan.deps import CurrentUser, RuntimeDep, SessionDep
from masterplan.generation.workflow import launch_generation

router = APIRouter(prefix="/conversations", tags=["conversations"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ConversationOut)
def create_conversation(
    session: SessionDep, user: CurrentUser, body: ConversationCreate | None = None
) -> ConversationOut:
    """Start a conversation."""
    conversation = service.create_conversation(session, user, (body or ConversationCreate()).title)
    return ConversationOut.model_validate(conversation)


@router.get("", response_model=ConversationList)
def list_conversations(session: SessionDep, user: CurrentUser) -> ConversationList:
    """The user's conversations, most recently active first."""
    return ConversationList(
        items=[ConversationOut.model_validate(c) for c in service.list_conversations(session, user)]
    )


@router.get("/{conversation_id}", response_model=ConversationOut)
def get_conversation(conversation_id: uuid.UUID, session: SessionDep, user: CurrentUser) -> ConversationOut:
    """One conversation."""
    return ConversationOut.model_validate(service.get_conversation(session, user, conversation_id))


@router.get("/{conversation_id}/messages", response_model=MessageList)
def list_messages(conversation_id: uuid.UUID, session: SessionDep, user: CurrentUser) -> MessageList:
    """Messages of a conversation, oldest first."""
    service.get_conversation(session, user, conversation_id)
    rows = service.list_messages(session, conversation_id)
    return MessageList(items=[MessageOut.model_validate(m) for m in rows])


@router.post(
    "/{conversation_id}/messages", status_code=status.HTTP_201_CREATED, response_model=SendMessageResponse
)
def post_message(
    conversation_id: uuid.UUID,
    body: SendMessageRequest,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> SendMessageResponse:
    """Send a message; `/masterplan <request>` starts a generation, anything else gets a chat reply.

    The answer arrives as events (message_chunk, message_complete, generation events) and as a stored
    assistant message.
    """
    sent = send_message(session, user, conversation_id, body, runtime.settings)
    response = SendMessageResponse(
        message=MessageOut.model_validate(sent.message),
        generation_id=sent.generation.id if sent.generation else None,
    )
    session.commit()  # the background work reads these rows: store them before it starts
    if sent.generation is not None:
        launch_generation(sent.generation.id, body.model)
    elif sent.reply_id is not None:
        launch_chat_reply(conversation_id, user.id, sent.reply_id, body.model)
    return response
