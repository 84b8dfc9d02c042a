"""Coder stand-ins (pydantic-ai FunctionModel functions), loaded as `function:tests.execution.models:<name>`."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter

from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo
from pydantic_ai.usage import RequestUsage

from masterplan.llm.roles import parse_target_files, parse_task_number
from masterplan.llm.sim import last_user_prompt

# Task numbers whose first answer also writes a file outside the targets (then a good one).
STRAY_ON_FIRST_ANSWER = {7}
# Task numbers that always answer with Python that does not compile.
ALWAYS_BROKEN: set[int] = set()
calls: Counter[int] = Counter()
_lock = threading.Lock()


def content_for(path: str, number: int) -> str:
    """Content that names the task that wrote it, valid for its kind."""
    if path.endswith(".py"):
        return f'WRITTEN_BY = "task {number}"\nPATH = {path!r}\n'
    if path.endswith(".json"):
        return json.dumps({"written_by": f"task {number}", "path": path}) + "\n"
    if path.endswith((".yaml", ".yml")):
        return f"written_by: task {number}\npath: {path}\n"
    if path.endswith(".toml"):
        return f'written_by = "task {number}"\npath = "{path}"\n'
    return f"written by task {number}: {path}\n"


def _answer(info: AgentInfo, files: list[dict[str, str]], tokens: tuple[int, int]) -> ModelResponse:
    return ModelResponse(
        parts=[ToolCallPart(info.output_tools[0].name, {"files": files, "notes": ""})],
        usage=RequestUsage(input_tokens=tokens[0], output_tokens=tokens[1]),
    )


def traceable_coder(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Writes every target file with content naming the task; misbehaves as the sets above say."""
    prompt = last_user_prompt(messages)
    number = parse_task_number(prompt) or 0
    targets = parse_target_files(prompt) or []
    with _lock:
        calls[number] += 1
        first = calls[number] == 1
    files = [{"path": p, "content": content_for(p, number)} for p in targets]
    if number in ALWAYS_BROKEN and targets:
        files = [{"path": p, "content": "def broken(:\n"} for p in targets]
    elif number in STRAY_ON_FIRST_ANSWER and first:
        files.append({"path": "stray/not_mine.py", "content": "x = 1\n"})
    return _answer(info, files, (1000, 500))


# Model calls of `counting_coder` in flight now, and the most seen at once.
in_flight = 0
most_in_flight = 0


async def counting_coder(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Traceable answers after 0.1 s (never misbehaving), counting how many calls overlap."""
    global in_flight, most_in_flight
    with _lock:
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
    try:
        await asyncio.sleep(0.1)
    finally:
        with _lock:
            in_flight -= 1
    prompt = last_user_prompt(messages)
    number = parse_task_number(prompt) or 0
    files = [{"path": p, "content": content_for(p, number)} for p in parse_target_files(prompt) or []]
    return _answer(info, files, (1000, 500))
