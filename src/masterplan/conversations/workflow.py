"""The chat reply as a DBOS workflow: the chat model's answer streamed as message_chunk events, then
stored and announced with message_complete."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import structlog
from dbos import DBOS
from pydantic_ai import Agent
from pydantic_ai.exceptions import AgentRunError
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, UserPromptPart

from masterplan.conversations import service
from masterplan.durable import GENERATION_QUEUE, current_runtime, start_workflow
from masterplan.errors import ConfigurationError
from masterplan.llm import CallUsage, resolve_model, run_agent, usage_of

log = structlog.get_logger(__name__)
CHUNK_SECONDS = 0.1
CHUNK_CHARS = 48
INSTRUCTIONS = """\
You are the assistant of masterplan, a tool that turns a project description into an approved,
hierarchical plan and then builds it with coding agents. Answer briefly and concretely. When the user
describes something to build, suggest sending `/masterplan <description>` to generate a plan."""


def _in_transaction(fn: Any, *args: Any) -> Any:
    with current_runtime().transaction() as session:
        return fn(session, *args)


@DBOS.step(name="chat.history")
def history_step(conversation_id: str, owner_id: str) -> list[dict[str, str]]:
    """The conversation so far (newest messages), oldest first."""

    def read(session: Any) -> list[dict[str, str]]:
        service.get_conversation(session, uuid.UUID(owner_id), uuid.UUID(conversation_id))
        rows = service.list_messages(session, uuid.UUID(conversation_id), limit=service.HISTORY_MESSAGES)
        return [{"role": m.role, "content": m.content} for m in rows]

    result: list[dict[str, str]] = _in_transaction(read)
    return result


class _Chunker:
    """Coalesces streamed text into message_chunk events, each in its own short transaction."""

    def __init__(self, conversation_id: uuid.UUID, reply_id: uuid.UUID) -> None:
        self.conversation_id, self.reply_id = conversation_id, reply_id
        self.buffer = ""
        self.last = time.monotonic()

    async def add(self, text: str) -> None:
        self.buffer += text
        if len(self.buffer) >= CHUNK_CHARS or time.monotonic() - self.last >= CHUNK_SECONDS:
            await self.flush()

    async def flush(self) -> None:
        if not self.buffer:
            return
        delta, self.buffer, self.last = self.buffer, "", time.monotonic()
        await asyncio.to_thread(
            _in_transaction, service.record_chunk, self.conversation_id, self.reply_id, delta
        )


def to_history(messages: list[dict[str, str]]) -> tuple[list[ModelMessage], str]:
    """Earlier messages as model history, and the newest user message as the prompt."""
    history: list[ModelMessage] = []
    for item in messages[:-1]:
        if item["role"] == "user":
            history.append(ModelRequest(parts=[UserPromptPart(item["content"])]))
        elif item["role"] == "assistant":
            history.append(ModelResponse(parts=[TextPart(item["content"])]))
    return history, messages[-1]["content"] if messages else ""


@DBOS.step(name="chat.reply")
async def reply_step(
    conversation_id: str, reply_id: str, messages: list[dict[str, str]], model: str | None
) -> dict[str, Any]:
    """Ask the chat model, streaming its words as events; a model failure becomes the reply's text."""
    chunker = _Chunker(uuid.UUID(conversation_id), uuid.UUID(reply_id))
    history, prompt = to_history(messages)
    try:
        resolved = resolve_model("chat", current_runtime().settings, override=model)
        agent: Agent[None, str] = Agent(instructions=INSTRUCTIONS, name="chat")
        result = await run_agent(
            agent, prompt, resolved, deps=None, on_text=chunker.add, message_history=history
        )
    except (AgentRunError, ConfigurationError) as exc:
        log.warning("chat_reply_failed", conversation_id=conversation_id, error=str(exc))
        return {"text": f"The chat model could not answer: {exc}", "usage": CallUsage().model_dump()}
    await chunker.flush()
    return {"text": result.output, "usage": usage_of(resolved, result.usage).model_dump()}


@DBOS.step(name="chat.store_reply")
def store_reply_step(conversation_id: str, owner_id: str, reply_id: str, text: str) -> None:
    """Store the reply under the id its chunks used, and announce it; safe to repeat."""

    def store(session: Any) -> None:
        from masterplan.models import Message

        if session.get(Message, uuid.UUID(reply_id)) is not None:
            return
        conversation = service.get_conversation(session, uuid.UUID(owner_id), uuid.UUID(conversation_id))
        message = service.add_message(
            session, conversation, "assistant", text, message_id=uuid.UUID(reply_id)
        )
        service.record_message_complete(session, message)

    _in_transaction(store)


@DBOS.workflow(name="masterplan.chat_reply")
async def chat_reply_workflow(
    conversation_id: str, owner_id: str, reply_id: str, model: str | None = None
) -> str:
    """Answer the newest message of a conversation with the chat model; returns the reply's id."""
    messages = await asyncio.to_thread(history_step, conversation_id, owner_id)
    answer = await reply_step(conversation_id, reply_id, messages, model)
    await asyncio.to_thread(store_reply_step, conversation_id, owner_id, reply_id, answer["text"])
    return reply_id


def launch_chat_reply(
    conversation_id: uuid.UUID, owner_id: uuid.UUID, reply_id: uuid.UUID, model: str | None
) -> None:
    """Start the reply's workflow (its id is the reply's message id), here or on a worker."""
    start_workflow(
        chat_reply_workflow,
        str(reply_id),
        str(conversation_id),
        str(owner_id),
        str(reply_id),
        model,
        queue=GENERATION_QUEUE,
    )
