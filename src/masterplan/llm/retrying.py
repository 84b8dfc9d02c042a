"""Provider errors (timeouts, 429, 5xx, dropped connections) retried with exponential backoff."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelConnectionError,
    ModelHTTPError,
    ModelRateLimitError,
    ModelRequestTimeout,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
)
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings

log = structlog.get_logger(__name__)

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
MAX_WAIT_SECONDS = 60.0


def is_retryable(exc: BaseException) -> bool:
    """Whether sending the same request again may succeed."""
    if isinstance(exc, ModelHTTPError):
        return exc.status_code in RETRYABLE_STATUS or exc.status_code >= 500
    return isinstance(
        exc,
        ModelRateLimitError
        | ModelUnavailableError
        | ModelServerError
        | ModelConnectionError
        | ModelRequestTimeout
        | TimeoutError,
    )


@dataclass(init=False)
class RetryingModel(WrapperModel):
    """Retries a wrapped model's requests on provider errors; each attempt has its own timeout."""

    max_retries: int
    timeout_seconds: float | None
    backoff_seconds: float

    def __init__(
        self,
        wrapped: Model,
        *,
        max_retries: int = 3,
        timeout_seconds: float | None = None,
        backoff_seconds: float = 1.0,
    ) -> None:
        super().__init__(wrapped)
        self.max_retries = max_retries
        self.timeout_seconds = timeout_seconds
        self.backoff_seconds = backoff_seconds

    def _wait(self, attempt: int, exc: BaseException) -> float:
        hinted = getattr(exc, "retry_after", None)
        if isinstance(hinted, int | float) and hinted > 0:
            return float(min(hinted, MAX_WAIT_SECONDS))
        base = self.backoff_seconds * (2**attempt)
        return float(min(base * random.uniform(0.5, 1.0), MAX_WAIT_SECONDS))

    async def _attempt(self, coro: Any) -> ModelResponse:
        if not self.timeout_seconds:
            result: ModelResponse = await coro
            return result
        try:
            async with asyncio.timeout(self.timeout_seconds):
                result = await coro
                return result
        except TimeoutError:
            raise ModelTimeoutError(
                self.model_name, f"no answer from {self.model_name} within {self.timeout_seconds:g} seconds"
            ) from None

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        attempt = 0
        while True:
            try:
                return await self._attempt(
                    self.wrapped.request(messages, model_settings, model_request_parameters)
                )
            except (ModelAPIError, TimeoutError) as exc:
                if attempt >= self.max_retries or not is_retryable(exc):
                    raise
                wait = self._wait(attempt, exc)
                log.warning(
                    "llm_retry",
                    model=self.model_name,
                    attempt=attempt + 1,
                    wait=round(wait, 2),
                    error=str(exc),
                )
                attempt += 1
                await asyncio.sleep(wait)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: Any = None,
    ) -> AsyncGenerator[StreamedResponse]:
        attempt = 0
        while True:
            # Only opening the stream is retried: once events flowed, a retry would repeat them.
            try:
                manager = self.wrapped.request_stream(
                    messages, model_settings, model_request_parameters, run_context
                )
                stream = await manager.__aenter__()
            except (ModelAPIError, TimeoutError) as exc:
                if attempt >= self.max_retries or not is_retryable(exc):
                    raise
                wait = self._wait(attempt, exc)
                log.warning("llm_retry", model=self.model_name, attempt=attempt + 1, wait=round(wait, 2))
                attempt += 1
                await asyncio.sleep(wait)
                continue
            break
        try:
            yield stream
        except BaseException as exc:
            if not await manager.__aexit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            await manager.__aexit__(None, None, None)
