"""The coder with a FunctionModel: prompt contract, refused answers corrected, output modes, temperature,
rate limit."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading

import pytest
from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage

from masterplan.execution.coder import (
    CoderAnswer,
    CoderContext,
    RequestRateLimiter,
    check_output,
    coder_prompt,
    run_coder,
    temperature_for,
)
from masterplan.llm import CoderOutput, GeneratedFile, ResolvedModel, parse_model_spec
from masterplan.llm.roles import parse_target_files, parse_task_number

TARGETS = ["src/app.py", "README.md"]


def context() -> CoderContext:
    return CoderContext(
        project_name="Demo",
        project_description="A demo.",
        tech_stack=["python"],
        architecture_style="",
        task_number=4,
        task_name="App",
        task_description="Write the app.",
        complexity="medium",
        target_files=TARGETS,
        subtasks=["parse input"],
        dependency_files=[("src/base.py", "BASE = 1\n")],
        current_files=[("README.md", "# old\n")],
    )


def resolved(function: object) -> ResolvedModel:
    model = FunctionModel(function)  # type: ignore[arg-type]
    return ResolvedModel(spec=parse_model_spec("function:x:y"), name="function:x:y", model=model, settings={})


def test_prompt_carries_the_machine_readable_targets_and_the_context() -> None:
    prompt = coder_prompt(context(), ["a.py compiles: line 1"])
    assert parse_target_files(prompt) == TARGETS
    assert parse_task_number(prompt) == 4
    for expected in ("Demo", "parse input", "BASE = 1", "# old", "a.py compiles: line 1"):
        assert expected in prompt


def test_check_output_names_every_broken_rule() -> None:
    output = CoderOutput(
        files=[
            GeneratedFile(path="src/app.py", content="x"),
            GeneratedFile(path="src/app.py", content="y"),
            GeneratedFile(path="../etc/passwd", content="z"),
            GeneratedFile(path="other.py", content="w"),
        ]
    )
    problems = " | ".join(check_output(output, tuple(TARGETS)))
    assert "'../etc/passwd' is not a safe path" in problems
    assert "'other.py' is not one of this task's target files" in problems
    assert "appears twice" in problems
    assert "missing target files ['README.md']" in problems


def test_a_file_outside_the_targets_is_refused_and_the_model_retried_with_the_reason() -> None:
    seen: list[str] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        retries = [p for m in messages for p in m.parts if isinstance(p, ToolReturnPart)]
        seen.extend(str(p.content) for p in retries)
        files = [{"path": p, "content": "x = 1\n"} for p in TARGETS]
        if not retries:
            files.append({"path": "/tmp/escape.py", "content": "boom"})
        return ModelResponse(
            parts=[ToolCallPart(info.output_tools[0].name, {"files": files})],
            usage=RequestUsage(input_tokens=100, output_tokens=10),
        )

    answer = run_coder(resolved(model), context(), attempt=1, feedback=[])
    assert answer.output is not None
    assert [f.path for f in answer.output.files] == TARGETS
    assert any("'/tmp/escape.py' is not a safe path" in s for s in seen)
    assert (answer.usage.input_tokens, answer.usage.requests) == (200, 2)


def test_a_model_that_never_complies_gives_an_error_not_an_exception() -> None:
    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {"files": []})])

    answer = run_coder(resolved(model), context(), attempt=2, feedback=["x"])
    assert answer.output is None
    assert answer.error and "no valid answer" in answer.error
    assert answer.usage.requests == 3


def test_temperature_decays_between_attempts() -> None:
    assert [temperature_for(a) for a in (1, 2, 3, 4)] == [0.4, 0.2, 0.1, 0.05]


def test_rate_limiter_spaces_requests() -> None:
    limiter = RequestRateLimiter(20.0)
    waits = [limiter.reserve() for _ in range(5)]
    assert waits[0] == pytest.approx(0.0, abs=0.01)
    assert waits[-1] == pytest.approx(0.2, abs=0.02)
    assert RequestRateLimiter(0).reserve() == 0.0


def test_the_model_sees_the_instructions_and_a_text_answer_is_asked_for_the_tool() -> None:
    seen: list[AgentInfo] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(info)
        if len(seen) == 1:
            return ModelResponse(parts=[TextPart("Sure, here is the code.")])
        files = [{"path": p, "content": "x = 1\n"} for p in TARGETS]
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {"files": files})])

    answer = run_coder(resolved(model), context(), attempt=1, feedback=[])
    assert answer.output is not None and answer.usage.requests == 2
    assert seen[0].instructions and "target_files" in seen[0].instructions
    assert seen[0].output_tools[0].parameters_json_schema["title"] == "CoderOutput"
    assert not seen[0].allow_text_output


def test_native_output_reads_fenced_json_and_feeds_back_schema_errors() -> None:
    prompts: list[str] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompts.extend(str(p.content) for p in messages[-1].parts if isinstance(p, UserPromptPart))
        if len(prompts) == 1:
            return ModelResponse(parts=[TextPart('{"files": 3}')])
        files = [{"path": p, "content": "x = 1\n"} for p in TARGETS]
        return ModelResponse(parts=[TextPart("```json\n" + json.dumps({"files": files}) + "\n```")])

    native = dataclasses.replace(resolved(model), output_mode="native")
    answer = run_coder(native, context(), attempt=1, feedback=[])
    assert answer.output is not None and [f.path for f in answer.output.files] == TARGETS
    assert "does not match the schema" in prompts[1] and "files" in prompts[1]


def test_every_tool_call_of_a_refused_answer_gets_a_reply() -> None:
    replies: list[list[str]] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        replies.append([p.tool_call_id for p in messages[-1].parts if isinstance(p, ToolReturnPart)])
        files = [{"path": p, "content": "x = 1\n"} for p in TARGETS]
        if len(replies) == 1:
            return ModelResponse(
                parts=[
                    ToolCallPart("search", {"q": "x"}, "c1"),
                    ToolCallPart("final_result", {"files": []}, "c2"),
                ]
            )
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {"files": files})])

    answer = run_coder(resolved(model), context(), attempt=1, feedback=[])
    assert answer.output is not None
    assert replies[1] == ["c1", "c2"]


def test_requests_from_every_task_thread_run_on_one_event_loop() -> None:
    """A provider's pooled connections belong to one loop: tasks in any thread must share it."""
    loops: list[int] = []

    async def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        loops.append(id(asyncio.get_running_loop()))
        files = [{"path": p, "content": "x = 1\n"} for p in TARGETS]
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {"files": files})])

    answers: list[CoderAnswer] = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(run_coder(resolved(model), context(), attempt=1, feedback=[]))
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
        thread.join(timeout=10)  # one after another: each thread is new, as a new batch's would be
    assert len(answers) == 4 and all(a.output is not None for a in answers)
    assert len(loops) == 4 and len(set(loops)) == 1
