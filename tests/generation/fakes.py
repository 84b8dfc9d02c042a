"""FunctionModel functions standing in for the LLM in generation tests (`function:tests.generation.fakes:<name>`).

Each answers discovery, the skeleton and milestone calls by the output tool's schema; the variants break
one rule on purpose. Feedback the model receives (ModelRetry messages) is collected in FEEDBACK.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo
from pydantic_ai.usage import RequestUsage

from masterplan.llm.roles import read_tagged
from masterplan.llm.sim import last_user_prompt

FEEDBACK: list[str] = []
CALLS: Counter[str] = Counter()
USAGE = RequestUsage(input_tokens=1000, output_tokens=200)

DISCOVERY = {
    "domain": "Todo lists",
    "bounded_contexts": [{"name": "Todos", "description": "Lists and items", "responsibilities": ["track"]}],
    "aggregates": [{"name": "TodoList", "bounded_context": "Todos", "entities": ["Item"], "invariants": []}],
    "value_objects": [{"name": "Title", "description": "A non-empty title"}],
    "domain_events": [{"name": "ItemCompleted", "description": "An item was done", "raised_by": "TodoList"}],
    "services": [{"name": "TodoService", "description": "Use cases", "operations": ["add", "complete"]}],
    "assumptions": ["single user"],
    "clarifications_needed": [],
    "risk_factors": ["none"],
}


def skeleton(milestones_per_phase: tuple[int, int, int], tasks_per_milestone: int) -> dict[str, Any]:
    phases = []
    number = 0
    for phase_type, count in zip(("setup", "core", "polish"), milestones_per_phase, strict=True):
        milestones = []
        for _ in range(count):
            number += 1
            milestones.append(
                {
                    "name": f"Milestone {number}",
                    "description": "",
                    "depends_on_milestones": [number - 1] if number > 1 else [],
                    "task_count": tasks_per_milestone,
                }
            )
        phases.append({"phase_type": phase_type, "name": phase_type.title(), "milestones": milestones})
    return {
        "project_name": "Todo API",
        "description": "Todo lists over HTTP",
        "tech_stack": ["python"],
        "architecture_style": "layered",
        "phases": phases,
    }


def milestone_tasks(prompt: str) -> list[dict[str, Any]]:
    context = json.loads(read_tagged(prompt, "milestone_context") or "{}")
    first, count, milestone = context["first_task_number"], context["task_count"], context["milestone_number"]
    return [
        {
            "task_number": n,
            "name": f"Task {n}",
            "description": f"Build part {n}",
            "complexity": "high" if n % 5 == 0 else "low",
            "task_type": "implementation",
            "depends_on": [n - 1] if n > 1 else [],
            "target_files": [f"app/m{milestone}/part_{n}.py"],
            "subtasks": [{"name": f"Step {i}"} for i in range(3 if n % 5 == 0 else 0)],
        }
        for n in range(first, first + count)
    ]


def feedback_of(messages: list[ModelMessage]) -> list[str]:
    last = messages[-1]
    if not isinstance(last, ModelRequest):
        return []
    return [str(p.content) for p in last.parts if isinstance(p, RetryPromptPart | ToolReturnPart)]


def _answer(
    messages: list[ModelMessage],
    info: AgentInfo,
    *,
    shape: tuple[tuple[int, int, int], int],
    broken: Any = None,
) -> ModelResponse:
    FEEDBACK.extend(feedback_of(messages))
    if not info.output_tools:
        return ModelResponse(parts=[TextPart("a fake chat reply")], usage=USAGE)
    tool = info.output_tools[0]
    title = tool.parameters_json_schema.get("title")
    prompt = last_user_prompt(messages)
    args: dict[str, Any]
    if title == "DiscoveryOutput":
        args = DISCOVERY
    elif title == "PlanSkeleton":
        args = skeleton(*shape)
    elif title == "MilestoneTasks":
        tasks = milestone_tasks(prompt)
        if broken is not None:
            tasks = broken(tasks, messages)
        args = {"tasks": tasks}
    else:
        raise AssertionError(f"unexpected output schema {title}")
    return ModelResponse(parts=[ToolCallPart(tool.name, args)], usage=USAGE)


def valid(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """A small valid plan: 1 + 1 + 1 milestones of 2 tasks."""
    return _answer(messages, info, shape=((1, 1, 1), 2))


def large(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """150 tasks across 15 milestones."""
    return _answer(messages, info, shape=((3, 9, 3), 10))


def _unknown_dependency(tasks: list[dict[str, Any]], _messages: list[ModelMessage]) -> list[dict[str, Any]]:
    tasks[-1]["depends_on"] = [99]
    return tasks


def bad_then_good(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """The first milestone answer depends on an unknown task; the answer after feedback is valid."""
    broken = None if feedback_of(messages) else _unknown_dependency
    return _answer(messages, info, shape=((1, 1, 1), 2), broken=broken)


def always_unknown_dependency(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return _answer(messages, info, shape=((1, 1, 1), 2), broken=_unknown_dependency)


def always_cycle(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    def cycle(tasks: list[dict[str, Any]], _m: list[ModelMessage]) -> list[dict[str, Any]]:
        tasks[0]["depends_on"] = [tasks[1]["task_number"]]
        tasks[1]["depends_on"] = [tasks[0]["task_number"]]
        return tasks

    return _answer(messages, info, shape=((1, 1, 1), 2), broken=cycle)


def always_unsafe_path(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    def unsafe(tasks: list[dict[str, Any]], _m: list[ModelMessage]) -> list[dict[str, Any]]:
        tasks[0]["target_files"] = ["../outside.py"]
        return tasks

    return _answer(messages, info, shape=((1, 1, 1), 2), broken=unsafe)


def always_shared_file(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    def shared(tasks: list[dict[str, Any]], _m: list[ModelMessage]) -> list[dict[str, Any]]:
        for task in tasks:
            task["depends_on"] = []
            task["target_files"] = ["app/shared.py"]
        return tasks

    return _answer(messages, info, shape=((1, 1, 1), 2), broken=shared)


def flaky_provider(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """The very first call fails with HTTP 503, like an overloaded provider; later calls answer."""
    CALLS["flaky"] += 1
    if CALLS["flaky"] == 1:
        raise ModelHTTPError(503, "fake", body={"error": "overloaded"})
    return valid(messages, info)


def always_down(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    raise ModelHTTPError(500, "fake", body={"error": "down"})
