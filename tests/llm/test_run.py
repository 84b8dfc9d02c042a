"""Running agents with progress: token counts from streams, heartbeats without, text chunks for chat."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator

import pytest
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel

import masterplan.llm.run as llm_run
from masterplan.llm import ResolvedModel, run_agent
from masterplan.llm.spec import ModelSpec


class Essay(BaseModel):
    text: str


async def stream_essay(_messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[DeltaToolCalls]:
    body = json.dumps({"text": "word " * 1000})  # about 1,250 tokens
    for i in range(0, len(body), 100):
        yield {
            0: DeltaToolCall(name=info.output_tools[0].name if i == 0 else None, json_args=body[i : i + 100])
        }


def hosted_like(model: FunctionModel) -> ResolvedModel:
    """A FunctionModel presented as a hosted provider, so structured answers are streamed."""
    return ResolvedModel(
        spec=ModelSpec("openai", "stand-in"), name="openai:stand-in", model=model, settings={}
    )


async def test_streamed_answers_report_tokens_every_few_hundred() -> None:
    reports: list[int] = []

    async def on_progress(tokens: int) -> None:
        reports.append(tokens)

    result = await run_agent(
        Agent(output_type=Essay),
        "write",
        hosted_like(FunctionModel(stream_function=stream_essay)),
        deps=None,
        on_progress=on_progress,
    )
    assert result.output.text.startswith("word word")
    assert len(reports) >= 4
    assert all(b - a >= llm_run.PROGRESS_TOKENS for a, b in itertools.pairwise(reports))


async def test_a_heartbeat_reports_while_an_unstreamed_call_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm_run, "HEARTBEAT_SECONDS", 0.02)
    reports: list[int] = []

    async def slow(_messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        await asyncio.sleep(0.2)
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {"text": "done"})])

    async def on_progress(tokens: int) -> None:
        reports.append(tokens)

    resolved = ResolvedModel(spec=ModelSpec("sim"), name="sim", model=FunctionModel(slow), settings={})
    await run_agent(Agent(output_type=Essay), "write", resolved, deps=None, on_progress=on_progress)
    assert len(reports) >= 3


async def test_chat_text_arrives_in_chunks() -> None:
    async def words(_messages: list[ModelMessage], _info: AgentInfo) -> AsyncIterator[str]:
        for word in ("Hello", " there", ", friend"):
            yield word

    chunks: list[str] = []

    async def on_text(text: str) -> None:
        chunks.append(text)

    resolved = ResolvedModel(
        spec=ModelSpec("sim"), name="sim", model=FunctionModel(stream_function=words), settings={}
    )
    result = await run_agent(Agent(), "hi", resolved, deps=None, on_text=on_text)
    assert result.output == "Hello there, friend"
    assert "".join(chunks) == result.output and len(chunks) == 3
