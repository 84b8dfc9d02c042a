"""The coder agent: writes the full content of exactly one task's target files.

Its output validator refuses (with a precise message the model sees) any unsafe path, any file that is
not a target, duplicates and missing targets, so a bad answer is retried, never written.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
import time
from dataclasses import dataclass, field

from pydantic_ai import Agent, ModelRetry, RunContext
from pydantic_ai.exceptions import AgentRunError
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.output import NativeOutput
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RunUsage

from masterplan.llm import CallUsage, CoderOutput, ResolvedModel, coder_context_block, usage_of
from masterplan.workspace.paths import UnsafePathError, check_relative_path

OUTPUT_RETRIES = 2
BASE_TEMPERATURE = 0.4
TEMPERATURE_DECAY = 0.5
MAX_CONTEXT_CHARS = 60_000

INSTRUCTIONS = """\
You are the coder of a software project that is built task by task.
Write the complete content of every file listed between <target_files> and </target_files>, and no other file.
Paths are relative to the project root and must be copied exactly. Return whole files, not diffs.
Use the files written by earlier tasks as the interfaces you build on. Keep the code simple and runnable.
When errors of an earlier attempt are listed, fix every one of them."""


@dataclass(frozen=True)
class CoderDeps:
    task_number: int
    target_files: tuple[str, ...]


@dataclass
class CoderContext:
    """Everything the coder is told about one task."""

    project_name: str
    project_description: str
    tech_stack: list[str]
    architecture_style: str
    task_number: int
    task_name: str
    task_description: str
    complexity: str
    target_files: list[str]
    subtasks: list[str] = field(default_factory=list)
    dependency_files: list[tuple[str, str]] = field(default_factory=list)
    current_files: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class CoderAnswer:
    """One attempt's outcome: the files (None when the model never gave a valid answer) and usage."""

    output: CoderOutput | None
    error: str | None
    usage: CallUsage
    prompt: str


def temperature_for(attempt: int) -> float:
    """Lower on every retry: later attempts should follow the feedback, not explore."""
    return round(BASE_TEMPERATURE * TEMPERATURE_DECAY ** max(0, attempt - 1), 4)


def check_output(output: CoderOutput, targets: tuple[str, ...]) -> list[str]:
    """Every rule the answer breaks, as messages addressed to the model."""
    allowed = ", ".join(targets)
    problems: list[str] = []
    seen: set[str] = set()
    for file in output.files:
        try:
            path = check_relative_path(file.path)
        except UnsafePathError as exc:
            problems.append(f"{file.path!r} is not a safe path ({exc}); write only: {allowed}")
            continue
        if path not in targets:
            problems.append(f"{file.path!r} is not one of this task's target files; write only: {allowed}")
        elif path in seen:
            problems.append(f"{path!r} appears twice; give each target file once")
        seen.add(path)
    missing = [t for t in targets if t not in seen]
    if missing:
        problems.append(f"missing target files {missing}: return the full content of each of them")
    return problems


@functools.cache
def coder_agent(output_mode: str = "tool") -> Agent[CoderDeps, CoderOutput]:
    """The typed coder agent for a model's output mode (built on first use, never at import)."""
    agent: Agent[CoderDeps, CoderOutput] = Agent(
        output_type=NativeOutput(CoderOutput) if output_mode == "native" else CoderOutput,
        deps_type=CoderDeps,
        instructions=INSTRUCTIONS,
        name="coder",
        retries={"output": OUTPUT_RETRIES},
    )

    # async, though it only computes: pydantic-ai hands a plain function to a worker thread, and every
    # task of a wave paid those thread handoffs while the others held the interpreter lock.
    @agent.output_validator
    async def only_target_files(ctx: RunContext[CoderDeps], output: CoderOutput) -> CoderOutput:
        problems = check_output(output, ctx.deps.target_files)
        if problems:
            raise ModelRetry("; ".join(problems))
        for file in output.files:
            file.path = check_relative_path(file.path)
        return output

    return agent


def coder_prompt(context: CoderContext, feedback: list[str]) -> str:
    """The user prompt: plan summary, task, subtasks, dependency files, current targets, earlier errors."""
    budget = MAX_CONTEXT_CHARS
    parts = [
        f"# Project: {context.project_name}",
        context.project_description,
        f"Tech stack: {', '.join(context.tech_stack) or 'not specified'}."
        + (f" Architecture: {context.architecture_style}." if context.architecture_style else ""),
        f"# Task {context.task_number}: {context.task_name} ({context.complexity})",
        context.task_description,
    ]
    if context.subtasks:
        parts.append("Subtasks:\n" + "\n".join(f"- {s}" for s in context.subtasks))
    parts.append(coder_context_block(context.task_number, context.target_files))
    for title, files in (
        ("Files written by the tasks this one depends on", context.dependency_files),
        ("Current content of your target files", context.current_files),
    ):
        shown: list[str] = []
        for path, content in files:
            if len(content) > budget:
                shown.append(f"## {path}\n(omitted: {len(content)} characters)")
                continue
            budget -= len(content)
            shown.append(f"## {path}\n```\n{content}\n```")
        if shown:
            parts.append(f"# {title}\n" + "\n".join(shown))
    if feedback:
        parts.append(
            "# Errors of the previous attempt (fix all of them)\n" + "\n".join(f"- {e}" for e in feedback)
        )
    return "\n\n".join(p for p in parts if p)


class RequestRateLimiter:
    """Spaces model requests of this process to at most `rate` per second (0 disables it)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._next = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Seconds to wait before this request may go."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + 1.0 / self.rate
            return slot - now


_limiters: dict[float, RequestRateLimiter] = {}
_limiters_lock = threading.Lock()


def rate_limiter(rate: float) -> RequestRateLimiter:
    """The process-wide limiter for a configured rate."""
    with _limiters_lock:
        return _limiters.setdefault(rate, RequestRateLimiter(rate))


class RateLimitedModel(WrapperModel):
    """Waits for the rate limiter before each request of the wrapped model."""

    def __init__(self, wrapped: Model, limiter: RequestRateLimiter) -> None:
        super().__init__(wrapped)
        self.limiter = limiter

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        delay = self.limiter.reserve()
        if delay > 0:
            await asyncio.sleep(delay)
        return await super().request(messages, model_settings, model_request_parameters)


def run_coder(
    resolved: ResolvedModel,
    context: CoderContext,
    *,
    attempt: int,
    feedback: list[str],
    limiter: RequestRateLimiter | None = None,
) -> CoderAnswer:
    """One coder attempt (with the agent's own output retries); never raises for a bad model answer."""
    prompt = coder_prompt(context, feedback)
    deps = CoderDeps(context.task_number, tuple(check_relative_path(t) for t in context.target_files))
    model: Model = (
        RateLimitedModel(resolved.model, limiter) if limiter and limiter.rate > 0 else resolved.model
    )
    settings: ModelSettings = {**resolved.settings, "temperature": temperature_for(attempt)}
    usage = RunUsage()
    try:
        result = coder_agent(resolved.output_mode).run_sync(
            prompt, model=model, deps=deps, model_settings=settings, usage=usage
        )
    except AgentRunError as exc:
        return CoderAnswer(None, f"the model gave no valid answer: {exc}", usage_of(resolved, usage), prompt)
    except Exception as exc:  # a provider or network failure is a failed attempt, not a crashed run
        return CoderAnswer(
            None, f"the model call failed: {type(exc).__name__}: {exc}", usage_of(resolved, usage), prompt
        )
    return CoderAnswer(result.output, None, usage_of(resolved, usage), prompt)


def describe_output(output: CoderOutput) -> str:
    """The answer as stored for review: paths with sizes and the notes."""
    return json.dumps(
        {"files": [{"path": f.path, "chars": len(f.content)} for f in output.files], "notes": output.notes}
    )
