"""The `local` model: llama.cpp in-process, its output constrained by the JSON schema."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from masterplan.discovery.schemas import DiscoveryOutput
from masterplan.generation.schemas import MilestoneTasks
from masterplan.llm.local import FILE_PATTERN, MAX_ITEMS, constrained_schema, local_available, render_prompt


def test_the_grammar_schema_is_small_and_keeps_what_matters() -> None:
    schema = constrained_schema(MilestoneTasks.model_json_schema())
    task = schema["$defs"]["TaskDocument"]
    assert set(task["properties"]) == {
        "task_number",
        "name",
        "description",
        "complexity",
        "depends_on",
        "target_files",
    }
    assert task["properties"]["target_files"]["items"]["pattern"] == FILE_PATTERN
    assert schema["properties"]["tasks"]["maxItems"] == MAX_ITEMS
    discovery = constrained_schema(DiscoveryOutput.model_json_schema())
    assert "risk_factors" not in discovery["properties"]
    assert discovery["properties"]["domain"]["maxLength"] <= 48


def test_the_prompt_holds_instructions_and_the_conversation() -> None:
    from pydantic_ai.messages import ModelRequest, UserPromptPart

    prompt = render_prompt(
        [ModelRequest(parts=[UserPromptPart("plan a shop")])], "Be brief.", structured=True
    )
    assert prompt.startswith("Be brief.")
    assert "User: plan a shop" in prompt
    assert prompt.endswith("Assistant (JSON):")


class Tiny(BaseModel):
    word: str


@pytest.mark.slow
@pytest.mark.skipif(not local_available(), reason="pip install 'masterplan[local]'")
async def test_the_shipped_model_answers_inside_the_schema() -> None:
    from pydantic_ai import Agent

    from masterplan.llm.local import local_model

    result = await Agent(local_model(None), output_type=Tiny).run("Say one word about apples.")
    assert result.output.word
    assert result.usage.output_tokens > 0
    json.dumps(result.output.model_dump())
