"""Provider errors are retried with backoff; a request the provider rejects is not."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.exceptions import ModelHTTPError, ModelTimeoutError
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from masterplan.llm.retrying import RetryingModel, is_retryable


class Answer(BaseModel):
    value: int


def failing_first(errors: list[Exception], calls: Counter[str]) -> FunctionModel:
    async def answer(_messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        calls["n"] += 1
        if calls["n"] <= len(errors):
            raise errors[calls["n"] - 1]
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {"value": 42})])

    return FunctionModel(answer)


async def run(model: RetryingModel) -> int:
    result = await Agent(model, output_type=Answer).run("go")
    return result.output.value


async def test_rate_limits_server_errors_and_timeouts_are_retried() -> None:
    calls: Counter[str] = Counter()
    errors: list[Exception] = [
        ModelHTTPError(429, "m", body="slow down"),
        ModelHTTPError(502, "m", body="bad gateway"),
        ModelTimeoutError("m", "read timed out"),
    ]
    model = RetryingModel(failing_first(errors, calls), max_retries=3, backoff_seconds=0.001)
    assert await run(model) == 42
    assert calls["n"] == 4


async def test_retries_stop_after_the_budget() -> None:
    calls: Counter[str] = Counter()
    errors: list[Exception] = [ModelHTTPError(503, "m", body="down")] * 5
    model = RetryingModel(failing_first(errors, calls), max_retries=2, backoff_seconds=0.001)
    with pytest.raises(ModelHTTPError):
        await run(model)
    assert calls["n"] == 3


async def test_a_rejected_request_is_not_retried() -> None:
    calls: Counter[str] = Counter()
    model = RetryingModel(
        failing_first([ModelHTTPError(400, "m", body="bad request")], calls),
        max_retries=3,
        backoff_seconds=0.001,
    )
    with pytest.raises(ModelHTTPError):
        await run(model)
    assert calls["n"] == 1


async def test_each_attempt_has_its_own_timeout() -> None:
    calls: Counter[str] = Counter()

    async def slow_then_fast(_messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        calls["n"] += 1
        if calls["n"] == 1:
            await asyncio.sleep(5)
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {"value": 7})])

    model = RetryingModel(
        FunctionModel(slow_then_fast), max_retries=1, timeout_seconds=0.05, backoff_seconds=0.001
    )
    assert await run(model) == 7
    assert calls["n"] == 2


def test_the_provider_asked_wait_is_honoured() -> None:
    model = RetryingModel(FunctionModel(lambda m, i: ModelResponse(parts=[])), backoff_seconds=1.0)
    hinted = ModelHTTPError(429, "m", headers={"retry-after": "2"})
    assert model._wait(0, hinted) == 2.0
    assert 0.5 <= model._wait(0, ModelHTTPError(500, "m")) <= 1.0
    assert 2.0 <= model._wait(2, ModelHTTPError(500, "m")) <= 4.0
    assert is_retryable(ModelHTTPError(529, "m")) and not is_retryable(ModelHTTPError(401, "m"))
