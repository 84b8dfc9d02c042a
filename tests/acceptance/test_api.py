"""Acceptance tests by API (list, replace, runs) and derived by the agent (FunctionModel stands in)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi.testclient import TestClient
from pydantic_ai.messages import ModelMessage, ModelResponse, RetryPromptPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from sqlalchemy import select

from masterplan.acceptance.derive import derive_acceptance_tests
from masterplan.acceptance.gate import run_wave_acceptance
from masterplan.llm import ResolvedModel
from masterplan.llm.spec import ModelSpec
from masterplan.models import ExecutionEvent, HistoryEntry, User
from masterplan.runtime import Runtime
from tests.fixtures.running_plan import complete_task, running_plan

OPS_TEST = "from calc.ops import add\n\ndef test_add():\n    assert add(1, 1) == 2\n"


def spec(name: str, covers: list[int], **fields: Any) -> dict[str, Any]:
    return {"name": name, "covers_tasks": covers, "kind": "pytest", "pytest_code": OPS_TEST} | fields


def put(client: TestClient, plan_id: uuid.UUID, tests: list[dict[str, Any]]) -> Any:
    return client.put(f"/api/v1/masterplans/{plan_id}/acceptance-tests", json={"tests": tests})


def test_replace_keeps_ids_resets_changed_and_deletes_the_rest(
    runtime: Runtime, local_user: User, client: TestClient
) -> None:
    plan = running_plan(runtime, local_user)
    first = put(
        client,
        plan.id,
        [spec("adds", [1]), spec("exists", [1], kind="command", command="test -f calc/ops.py")],
    )
    assert first.status_code == 200, first.text
    items = {t["name"]: t for t in first.json()["items"]}
    assert items["exists"]["pytest_code"] is None and items["exists"]["command"] == "test -f calc/ops.py"
    assert items["adds"]["status"] == "pending" and first.json()["gate"]["gate_passed"] is True

    complete_task(runtime, plan, 1)
    run_wave_acceptance(runtime, plan.id, 1)
    ran = {
        t["name"]: t for t in client.get(f"/api/v1/masterplans/{plan.id}/acceptance-tests").json()["items"]
    }
    assert ran["adds"]["status"] == "passed" and ran["adds"]["last_run"]["passed"] is True
    assert "1 passed" in ran["adds"]["last_run"]["output"]

    changed = {**ran["adds"], "description": "now described"}
    unchanged = ran["exists"]
    second = put(client, plan.id, [changed, unchanged, spec("new one", [2], priority="should")])
    assert second.status_code == 200, second.text
    after = {t["name"]: t for t in second.json()["items"]}
    assert after["adds"]["id"] == ran["adds"]["id"] and after["adds"]["status"] == "pending"
    assert after["exists"]["status"] == "passed"
    assert after["new one"]["priority"] == "should"

    third = put(client, plan.id, [unchanged])
    assert [t["name"] for t in third.json()["items"]] == ["exists"]
    runs = client.get(f"/api/v1/masterplans/{plan.id}/acceptance-tests/{unchanged['id']}/runs").json()
    assert len(runs) == 1 and runs[0]["exit_code"] == 0

    with runtime.reading() as session:
        actions = session.scalars(
            select(HistoryEntry.after).where(HistoryEntry.action == "acceptance_tests_replaced")
        ).all()
        assert [a["count"] for a in actions if a] == [2, 3, 1]
        types = session.scalars(
            select(ExecutionEvent.type).where(ExecutionEvent.stream == f"masterplan:{plan.id}")
        ).all()
        assert types.count("acceptance_tests_updated") == 3


def test_invalid_tests_are_a_422_listing_every_problem(
    runtime: Runtime, local_user: User, client: TestClient
) -> None:
    plan = running_plan(runtime, local_user)
    response = put(
        client,
        plan.id,
        [
            spec("twice", [1]),
            spec("TWICE", [99]),
            spec("broken", [1], pytest_code="def test_x(:\n"),
            spec("no tests", [1], pytest_code="x = 1\n"),
            spec("no command", [1], kind="command", command=""),
            spec("stranger", [1], id=str(uuid.uuid4())),
        ],
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "acceptance_tests_invalid"
    details = "\n".join(error["details"])
    for expected in (
        "used twice",
        "unknown tasks [99]",
        "not valid Python",
        "no test function",
        "needs a command",
        "not a test of this plan",
    ):
        assert expected in details, expected
    assert client.get(f"/api/v1/masterplans/{plan.id}/acceptance-tests").json()["items"] == []


def test_unknown_plan_is_404(client: TestClient) -> None:
    unknown = uuid.uuid4()
    assert client.get(f"/api/v1/masterplans/{unknown}/acceptance-tests").status_code == 404
    assert put(client, unknown, []).status_code == 404
    assert (
        client.post(f"/api/v1/masterplans/{unknown}/gate/override", json={"reason": "x"}).status_code == 404
    )


def function_model(answers: list[dict[str, Any]], seen: list[str]) -> ResolvedModel:
    """Answers the output tool with each of `answers` in turn; records retry prompts it receives."""

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.clear()
        for message in messages:
            for part in getattr(message, "parts", []):
                if isinstance(part, RetryPromptPart):
                    seen.append(part.model_response())
                elif isinstance(part, ToolReturnPart):  # how a failed output validation comes back
                    seen.append(str(part.content))
        answer = answers[min(len(seen), len(answers) - 1)]
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, json.dumps(answer))])

    return ResolvedModel(
        spec=ModelSpec("function", "test"), name="function:test", model=FunctionModel(respond), settings={}
    )


def test_the_agent_derives_tests_and_is_told_what_to_fix(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user)
    wrong = {"tests": [spec("adds", [99])]}
    right = {
        "tests": [
            spec("adds", [1]),
            spec("cli", [3], kind="command", command="python -m calc.cli 2 2", priority="should"),
        ]
    }
    seen: list[str] = []
    result = derive_acceptance_tests(runtime, plan.id, model=function_model([wrong, right], seen))
    assert result.error is None and result.created == 2
    assert any("unknown tasks [99]" in s for s in seen)
    again = derive_acceptance_tests(runtime, plan.id, model=function_model([right], []))
    assert again.kept_existing and again.created == 0
    with runtime.reading() as session:
        entry = session.scalars(
            select(HistoryEntry).where(HistoryEntry.action == "acceptance_tests_derived")
        ).one()
        assert entry.after is not None and entry.after["count"] == 2


def test_a_model_that_never_answers_right_leaves_no_tests(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user)
    result = derive_acceptance_tests(
        runtime, plan.id, model=function_model([{"tests": [spec("x", [42])]}], [])
    )
    assert result.created == 0 and result.error is not None and "unknown tasks [42]" in result.error


def test_derive_endpoint_with_the_simulator(runtime: Runtime, local_user: User, client: TestClient) -> None:
    plan = running_plan(runtime, local_user)
    response = client.post(f"/api/v1/masterplans/{plan.id}/acceptance-tests/derive", json={"replace": True})
    assert response.status_code == 200, response.text
    assert response.json()["error"] is None and response.json()["model"] == "sim"
