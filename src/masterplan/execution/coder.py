"""The coder: asks the model for the full content of exactly one task's target files.

An answer with an unsafe path, a file that is not a target, a duplicate or a missing target is refused
with a precise message the model sees and asked again, never written.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import threading
import time
from dataclasses import dataclass, field

from pydantic import ValidationError
from pydantic_ai.direct import model_request
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.output import OutputObjectDefinition
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import ToolDefinition
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


OUTPUT_TOOL = "final_result"


@functools.cache
def request_parameters(output_mode: str) -> ModelRequestParameters:
    """What every coder request asks for: a CoderOutput through the output tool, or as JSON text (native)."""
    schema = CoderOutput.model_json_schema()
    description = (CoderOutput.__doc__ or "").strip()
    if output_mode == "native":
        return ModelRequestParameters(
            output_mode="native",
            output_object=OutputObjectDefinition(
                json_schema=schema, name="CoderOutput", description=description
            ),
        )
    return ModelRequestParameters(
        output_mode="tool",
        output_tools=[
            ToolDefinition(
                name=OUTPUT_TOOL, parameters_json_schema=schema, description=description, kind="output"
            )
        ],
        allow_text_output=False,
    )


def read_answer(
    response: ModelResponse, output_mode: str, targets: tuple[str, ...]
) -> tuple[CoderOutput | None, ModelRequest | None]:
    """The valid answer in a response, or the request telling the model what to fix (never both)."""
    if output_mode == "native":
        text = "".join(p.content for p in response.parts if isinstance(p, TextPart))
        output, problem = _parse(_without_fences(text), targets)
        if output is not None:
            return output, None
        return None, ModelRequest(parts=[UserPromptPart(f"{RETRY_PREFIX}\n{problem}")])
    calls = [p for p in response.parts if isinstance(p, ToolCallPart)]
    answer = next((c for c in calls if c.tool_name == OUTPUT_TOOL), None)
    if answer is None:
        if not calls:
            reason = f"{RETRY_PREFIX}\nGive your answer by calling the {OUTPUT_TOOL} tool."
            return None, ModelRequest(parts=[UserPromptPart(reason)])
        problem = f"there is no tool {calls[0].tool_name!r}: give your answer by calling {OUTPUT_TOOL}"
    else:
        output, problem = _parse(answer.args_as_json_str(), targets)
        if output is not None:
            return output, None
    # Every tool call of the response gets its reply (providers refuse a call left unanswered).
    replies = [
        ToolReturnPart(
            tool_name=c.tool_name,
            content=problem if c is answer or answer is None else "ignored: only one answer is read",
            tool_call_id=c.tool_call_id,
            outcome="retried",
        )
        for c in calls
    ]
    return None, ModelRequest(parts=list(replies))


RETRY_PREFIX = "Your previous answer was refused (automated feedback, not a message from the user):"


def _without_fences(text: str) -> str:
    """JSON text without the markdown code fence some models put around it."""
    text = text.strip()
    if text.startswith("```") and text.endswith("```"):
        text = text[3:-3].strip()
        first, _, rest = text.partition("\n")
        text = rest if first.strip().lower() == "json" else text
    return text


def _parse(args: str, targets: tuple[str, ...]) -> tuple[CoderOutput | None, str]:
    """The answer if it is valid and writes exactly the targets, else why not (for the model)."""
    try:
        output = CoderOutput.model_validate_json(args)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        return None, "the answer does not match the schema: " + json.dumps(errors)
    problems = check_output(output, targets)
    if problems:
        return None, "; ".join(problems)
    for file in output.files:
        file.path = check_relative_path(file.path)
    return output, ""


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
    """One coder attempt (with up to OUTPUT_RETRIES corrections of a refused answer); never raises for a
    bad model answer or a failed call.

    The requests go straight to the model (pydantic-ai's direct API) with the output tool or schema, and
    the answer is checked here: the agent graph around the same request cost 5.6 ms of interpreter time
    per call, the direct request 0.2 ms, and a wave's tasks answer together on one interpreter lock.
    """
    prompt = coder_prompt(context, feedback)
    targets = tuple(check_relative_path(t) for t in context.target_files)
    model: Model = (
        RateLimitedModel(resolved.model, limiter) if limiter and limiter.rate > 0 else resolved.model
    )
    settings: ModelSettings = {**resolved.settings, "temperature": temperature_for(attempt)}
    parameters = request_parameters(resolved.output_mode)
    messages: list[ModelMessage] = [ModelRequest(parts=[UserPromptPart(prompt)], instructions=INSTRUCTIONS)]
    usage = RunUsage()
    problem = ""
    try:
        for _ in range(OUTPUT_RETRIES + 1):
            response = _request(model, messages, settings, parameters)
            usage.requests += 1
            usage.incr(response.usage)
            output, correction = read_answer(response, resolved.output_mode, targets)
            if output is not None:
                return CoderAnswer(output, None, usage_of(resolved, usage), prompt)
            assert correction is not None
            problem = _feedback_text(correction)
            messages += [response, correction]
    except Exception as exc:  # a provider or network failure is a failed attempt, not a crashed run
        return CoderAnswer(
            None, f"the model call failed: {type(exc).__name__}: {exc}", usage_of(resolved, usage), prompt
        )
    error = f"the model gave no valid answer in {OUTPUT_RETRIES + 1} requests; the last one: {problem}"
    return CoderAnswer(None, error, usage_of(resolved, usage), prompt)


def _request(
    model: Model, messages: list[ModelMessage], settings: ModelSettings, parameters: ModelRequestParameters
) -> ModelResponse:
    """One model request, made on this process's requests loop (the calling thread waits for it)."""
    coroutine = model_request(model, messages, model_settings=settings, model_request_parameters=parameters)
    return asyncio.run_coroutine_threadsafe(coroutine, _requests_loop()).result()


_loops: dict[int, asyncio.AbstractEventLoop] = {}
_loops_lock = threading.Lock()


def _requests_loop() -> asyncio.AbstractEventLoop:
    """The event loop all coder requests of this process run on, in a thread of its own.

    One loop for every request: a provider's cached HTTP client keeps its pooled connections bound to
    the loop that opened them, and with pydantic-ai's sync request every task thread made a loop of its
    own, left to close with its batch's thread (and making it cost each task's start). Keyed by
    process: a forked child starts its own.
    """
    pid = os.getpid()
    with _loops_lock:
        loop = _loops.get(pid)
        if loop is None:
            loop = _loops[pid] = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="masterplan-model-requests", daemon=True).start()
        return loop


def _feedback_text(correction: ModelRequest) -> str:
    part = correction.parts[0]
    text = str(part.content) if isinstance(part, ToolReturnPart | UserPromptPart) else ""
    return text.removeprefix(RETRY_PREFIX).strip()


def describe_output(output: CoderOutput) -> str:
    """The answer as stored for review: paths with sizes and the notes."""
    return json.dumps(
        {"files": [{"path": f.path, "chars": len(f.content)} for f in output.files], "notes": output.notes}
    )
