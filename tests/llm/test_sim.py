"""The `sim` model: schema-valid answers for every role, deterministic, with injectable failures."""

from __future__ import annotations

import ast
import json
import tomllib
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, Field
from pydantic_ai import Agent
from pydantic_ai.exceptions import UnexpectedModelBehavior

from masterplan.config import Settings
from masterplan.llm import (
    CoderOutput,
    ResolvedModel,
    ReviewSuggestionsOutput,
    coder_context_block,
    resolve_model,
)
from masterplan.llm.schema_instance import minimal_instance

TARGETS = [
    "pkg/service.py",
    "tests/test_service.py",
    "config/app.json",
    "pyproject.toml",
    "deploy/app.yaml",
    "README.md",
]


def sim(tmp_path: Path, spec: str) -> ResolvedModel:
    settings = Settings(_env_file=None, data_dir=tmp_path, llm_retry_backoff_seconds=0.001)  # type: ignore[call-arg]
    return resolve_model("coder", settings, override=spec)


async def code(
    resolved: ResolvedModel, task_number: int, targets: list[str], retries: int = 0
) -> CoderOutput:
    agent = Agent(resolved.model, output_type=CoderOutput, retries={"output": retries})
    prompt = f"Write task {task_number}.\n{coder_context_block(task_number, targets)}"
    result = await agent.run(prompt)
    return result.output


def check_file(path: str, content: str) -> None:
    if path.endswith(".py"):
        ast.parse(content)
    elif path.endswith(".json"):
        json.loads(content)
    elif path.endswith(".toml"):
        tomllib.loads(content)
    elif path.endswith(".yaml"):
        assert isinstance(yaml.safe_load(content), dict)
    assert content.strip()


async def test_the_coder_writes_exactly_the_target_files_with_valid_syntax(tmp_path: Path) -> None:
    output = await code(sim(tmp_path, "sim"), 4, TARGETS)
    assert [f.path for f in output.files] == TARGETS
    for generated in output.files:
        check_file(generated.path, generated.content)
    assert "def test_" in output.files[1].content


async def test_chosen_tasks_always_fail(tmp_path: Path) -> None:
    resolved = sim(tmp_path, "sim:fail_tasks=3+8,seed=1")
    for number in (3, 8):
        output = await code(resolved, number, ["pkg/a.py"])
        paths = [f.path for f in output.files]
        broken = paths != ["pkg/a.py"]
        if not broken:
            with pytest.raises(SyntaxError):
                ast.parse(output.files[0].content)
    assert [f.path for f in (await code(resolved, 4, ["pkg/a.py"])).files] == ["pkg/a.py"]


async def test_answers_are_deterministic_for_a_seed(tmp_path: Path) -> None:
    first = await code(sim(tmp_path, "sim:seed=5,fail_rate=0.5"), 1, ["a.py"])
    second = await code(sim(tmp_path, "sim:seed=5,fail_rate=0.5"), 1, ["a.py"])
    assert first == second


async def test_fail_rate_produces_invalid_answers_at_that_rate(tmp_path: Path) -> None:
    resolved = sim(tmp_path, "sim:fail_rate=0.5,seed=2")
    failures = 0
    for number in range(1, 41):
        output = await code(resolved, number, ["m.py"])
        if [f.path for f in output.files] != ["m.py"] or "broken" in output.files[0].content:
            failures += 1
    assert 8 <= failures <= 32


async def test_simulated_provider_errors_are_retried_by_the_retry_layer(tmp_path: Path) -> None:
    resolved = sim(tmp_path, "sim:error_rate=0.5,seed=4")
    outputs = [await code(resolved, n, ["x.py"]) for n in range(1, 11)]
    assert all([f.path for f in o.files] == ["x.py"] for o in outputs)


async def test_usage_follows_the_tokens_option(tmp_path: Path) -> None:
    resolved = sim(tmp_path, "sim:tokens=321")
    result = await Agent(resolved.model, output_type=CoderOutput).run(coder_context_block(1, ["a.py"]))
    assert result.usage.output_tokens == 321
    assert result.usage.input_tokens > 0


async def test_the_reviewer_and_unknown_schemas_get_valid_answers(tmp_path: Path) -> None:
    resolved = sim(tmp_path, "sim")
    review = await Agent(resolved.model, output_type=ReviewSuggestionsOutput).run("review the inventory code")
    assert review.output.suggestions

    class Custom(BaseModel):
        title: str = Field(min_length=5)
        count: int = Field(ge=3)
        tags: list[str] = Field(min_length=2)
        nested: ReviewSuggestionsOutput

    custom = await Agent(resolved.model, output_type=Custom).run("anything")
    assert custom.output.count == 3 and len(custom.output.tags) == 2


async def test_latency_is_simulated(tmp_path: Path) -> None:
    import time

    resolved = sim(tmp_path, "sim:latency=0.2")
    started = time.monotonic()
    await code(resolved, 1, ["a.py"])
    assert time.monotonic() - started >= 0.2


async def test_always_invalid_coder_answers_exhaust_output_retries(tmp_path: Path) -> None:
    resolved = sim(tmp_path, "sim:fail_tasks=1")
    agent = Agent(resolved.model, output_type=CoderOutput, retries={"output": 1})

    @agent.output_validator
    def only_targets(output: CoderOutput) -> CoderOutput:
        from pydantic_ai import ModelRetry

        if [f.path for f in output.files] != ["a.py"] or "broken" in output.files[0].content:
            raise ModelRetry("write exactly a.py, valid Python")
        return output

    with pytest.raises(UnexpectedModelBehavior):
        await agent.run(coder_context_block(1, ["a.py"]))


def test_minimal_instance_follows_constraints() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 12},
            "kind": {"enum": ["a", "b"]},
            "items": {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/Item"}},
            "maybe": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 4}]},
        },
        "required": ["name", "kind", "items", "maybe"],
        "$defs": {"Item": {"type": "object", "properties": {"n": {"type": "number"}}, "required": ["n"]}},
    }
    value = minimal_instance(schema)
    assert len(value["name"]) == 12 and value["kind"] == "a"
    assert value["items"] == [{"n": 0.0}, {"n": 0.0}]
    assert value["maybe"] == 4
