"""`sim`: a deterministic offline model simulator for benchmarks, chaos tests and the UI.

It is a pydantic-ai FunctionModel that answers every role by the output tool's JSON schema with
schema-valid, rule-satisfying output: a discovery derived from the request's words, a plan skeleton and
per-milestone tasks of the requested size, code for exactly the requested target files, review
suggestions, chat replies; anything else gets a minimal valid instance of its schema. Options add
latency, token usage, invalid answers and provider errors. It never writes good software: it simulates.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, fields
from typing import Any

from pydantic_ai.exceptions import ModelHTTPError, ModelTimeoutError
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel
from pydantic_ai.usage import RequestUsage

from masterplan.errors import ConfigurationError
from masterplan.llm.roles import parse_target_files, parse_task_number
from masterplan.llm.schema_instance import minimal_instance
from masterplan.llm.sim_content import (
    acceptance_answer,
    coder_answer,
    discovery_answer,
    milestone_tasks_answer,
    plan_review_answer,
    review_answer,
    skeleton_answer,
)

PRICE_OPTIONS = ("price_in", "price_out")


@dataclass(frozen=True)
class SimOptions:
    latency: float = 0.0
    fail_rate: float = 0.0
    seed: int = 0
    fail_tasks: frozenset[int] = field(default_factory=frozenset)
    tasks: int = 12
    tokens: int = 0
    error_rate: float = 0.0

    @classmethod
    def parse(cls, options: dict[str, str]) -> SimOptions:
        """Options from `sim:k=v,...`; an unknown key or a bad value is a configuration error."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in options.items():
            if key in PRICE_OPTIONS:
                continue
            if key not in known:
                raise ConfigurationError(
                    f"unknown sim option {key!r}; known: {', '.join(sorted(known | set(PRICE_OPTIONS)))}"
                )
            try:
                if key == "fail_tasks":
                    values[key] = frozenset(int(n) for n in raw.split("+") if n)
                elif key in ("seed", "tasks", "tokens"):
                    values[key] = int(raw)
                else:
                    values[key] = float(raw)
            except ValueError:
                raise ConfigurationError(f"sim option {key}={raw!r} is not a number") from None
        parsed = cls(**values)
        if not 0 <= parsed.fail_rate <= 1 or not 0 <= parsed.error_rate <= 1:
            raise ConfigurationError("sim fail_rate and error_rate must be between 0 and 1")
        if parsed.tasks < 1 or parsed.latency < 0 or parsed.tokens < 0:
            raise ConfigurationError("sim tasks must be at least 1; latency and tokens must not be negative")
        return parsed


def last_user_prompt(messages: list[ModelMessage]) -> str:
    """The text of the newest user prompt in the history."""
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in reversed(message.parts):
                if isinstance(part, UserPromptPart):
                    return part.content if isinstance(part.content, str) else str(part.content)
    return ""


def _tokens_of(text: str) -> int:
    return max(1, len(text) // 4)


class Simulator:
    """The answering function behind `sim`; deterministic for a seed and a conversation."""

    def __init__(self, options: SimOptions) -> None:
        self.options = options
        self._calls: Counter[str] = Counter()

    def _rng(self, messages: list[ModelMessage], info: AgentInfo) -> random.Random:
        digest = hashlib.sha256()
        digest.update(last_user_prompt(messages).encode())
        digest.update(str(len(messages)).encode())
        key = digest.hexdigest()
        self._calls[key] += 1
        return random.Random(f"{self.options.seed}|{key}|{self._calls[key]}")

    def _maybe_raise(self, rng: random.Random, name: str) -> None:
        if self.options.error_rate and rng.random() < self.options.error_rate:
            kind = rng.choice(("429", "500", "timeout"))
            if kind == "timeout":
                raise ModelTimeoutError(name, "sim: simulated provider timeout")
            raise ModelHTTPError(int(kind), name, body={"error": f"sim: simulated HTTP {kind}"})

    def answer(self, messages: list[ModelMessage], info: AgentInfo) -> tuple[str | None, Any]:
        """(output tool name, arguments) for structured calls, or (None, text) for text replies."""
        rng = self._rng(messages, info)
        self._maybe_raise(rng, "sim")
        prompt = last_user_prompt(messages)
        fail = self.options.fail_rate > 0 and rng.random() < self.options.fail_rate
        if not info.output_tools:
            return None, chat_reply(prompt)
        tool = info.output_tools[0]
        schema = tool.parameters_json_schema
        title = schema.get("title", "")
        seed = self.options.seed
        if title == "DiscoveryOutput":
            args: Any = discovery_answer(prompt, fail=fail)
        elif title == "PlanSkeleton":
            args = skeleton_answer(prompt, self.options.tasks, seed=seed, fail=fail)
        elif title == "MilestoneTasks":
            args = milestone_tasks_answer(prompt, seed=seed, fail=fail)
        elif title == "CoderOutput":
            number = parse_task_number(prompt)
            targets = parse_target_files(prompt) or []
            fail = fail or (number is not None and number in self.options.fail_tasks)
            args = coder_answer(targets, number, rng=rng, fail=fail)
        elif title == "ReviewSuggestionsOutput":
            args = review_answer(prompt)
        elif title == "AcceptanceTestsOutput":
            args = acceptance_answer(prompt)
        elif title == "PlanReviewOutput":
            args = plan_review_answer(prompt)
        else:
            args = minimal_instance(schema)
        return tool.name, args

    def usage(self, messages: list[ModelMessage], output: str) -> RequestUsage:
        prompt_chars = sum(len(str(getattr(p, "content", ""))) for m in messages for p in m.parts)
        return RequestUsage(
            input_tokens=max(1, prompt_chars // 4), output_tokens=self.options.tokens or _tokens_of(output)
        )

    async def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if self.options.latency:
            await asyncio.sleep(self.options.latency)
        tool_name, args = self.answer(messages, info)
        if tool_name is None:
            return ModelResponse(parts=[TextPart(str(args))], usage=self.usage(messages, str(args)))
        text = json.dumps(args)
        return ModelResponse(parts=[ToolCallPart(tool_name, text)], usage=self.usage(messages, text))

    async def stream(
        self, messages: list[ModelMessage], info: AgentInfo
    ) -> AsyncIterator[str | DeltaToolCalls]:
        """The same answers, delivered in chunks (used for chat replies)."""
        tool_name, args = self.answer(messages, info)
        pause = self.options.latency / 20 if self.options.latency else 0.0
        if tool_name is None:
            words = str(args).split(" ")
            for i, word in enumerate(words):
                if pause:
                    await asyncio.sleep(pause)
                yield word if i == 0 else " " + word
            return
        text = json.dumps(args)
        for i in range(0, len(text), 200):
            if pause:
                await asyncio.sleep(pause)
            yield {0: DeltaToolCall(name=tool_name if i == 0 else None, json_args=text[i : i + 200])}


def chat_reply(prompt: str) -> str:
    """A short deterministic assistant reply."""
    topic = " ".join(prompt.split()[:12]) or "your message"
    return (
        f"(sim) You wrote about: {topic}. I turn project descriptions into masterplans: "
        "send `/masterplan <what to build>` and I will analyse the domain and draft a plan for your approval."
    )


def sim_model(options: dict[str, str], *, name: str = "sim") -> FunctionModel:
    """The simulator as a FunctionModel named after its spec (e.g. `sim:latency=0.5`)."""
    simulator = Simulator(SimOptions.parse(options))
    return FunctionModel(simulator.__call__, stream_function=simulator.stream, model_name=name)
