"""Running an agent with progress: token counts while it streams, a heartbeat while it does not."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any, TypeVar

from pydantic_ai import Agent, RunContext
from pydantic_ai.agent import AgentRunResult
from pydantic_ai.messages import (
    AgentStreamEvent,
    ModelMessage,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ToolCallPart,
    ToolCallPartDelta,
)
from pydantic_ai.output import NativeOutput

from masterplan.llm.models import ResolvedModel

T = TypeVar("T")
D = TypeVar("D")
Progress = Callable[[int], Awaitable[None]]
TextSink = Callable[[str], Awaitable[None]]

HEARTBEAT_SECONDS = 4.0
PROGRESS_TOKENS = 250
CHARS_PER_TOKEN = 4


def output_spec(resolved: ResolvedModel, output_type: type[T]) -> Any:
    """The output type as this model answers best: a tool call, or native JSON-schema output."""
    return NativeOutput(output_type) if resolved.output_mode == "native" else output_type


class _StreamCounter:
    """Counts streamed characters as estimated tokens and forwards text deltas."""

    def __init__(self, on_progress: Progress | None, on_text: TextSink | None) -> None:
        self.chars = 0
        self.reported = 0
        self.on_progress = on_progress
        self.on_text = on_text

    @property
    def tokens(self) -> int:
        return self.chars // CHARS_PER_TOKEN

    async def handle(self, _ctx: RunContext[Any], events: AsyncIterable[AgentStreamEvent]) -> None:
        async for event in events:
            text = ""
            if isinstance(event, PartStartEvent):
                if isinstance(event.part, TextPart):
                    text = event.part.content
                    if self.on_text and text:
                        await self.on_text(text)
                elif isinstance(event.part, ToolCallPart):
                    text = event.part.args_as_json_str() if event.part.args else ""
            elif isinstance(event, PartDeltaEvent):
                delta = event.delta
                if isinstance(delta, TextPartDelta):
                    text = delta.content_delta
                    if self.on_text and text:
                        await self.on_text(text)
                elif isinstance(delta, ToolCallPartDelta) and isinstance(delta.args_delta, str):
                    text = delta.args_delta
            self.chars += len(text)
            if self.on_progress and self.tokens - self.reported >= PROGRESS_TOKENS:
                self.reported = self.tokens
                await self.on_progress(self.tokens)


async def run_agent(
    agent: Agent[D, T],
    prompt: str,
    resolved: ResolvedModel,
    *,
    deps: D,
    on_progress: Progress | None = None,
    on_text: TextSink | None = None,
    message_history: list[ModelMessage] | None = None,
) -> AgentRunResult[T]:
    """Run the agent on the resolved model; report estimated output tokens at least every few seconds."""
    counter = _StreamCounter(on_progress, on_text)
    stream = (on_text is not None and resolved.streams) or (
        on_progress is not None and resolved.streams_structured
    )

    async def heartbeat() -> None:
        assert on_progress is not None
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await on_progress(counter.tokens)

    ticker = asyncio.create_task(heartbeat()) if on_progress else None
    try:
        return await agent.run(
            prompt,
            model=resolved.model,
            deps=deps,
            model_settings=resolved.settings,
            message_history=message_history,
            event_stream_handler=counter.handle if stream else None,
        )
    finally:
        if ticker:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
