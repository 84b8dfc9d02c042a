"""LLM plan review: suggestions as edit operations, applied selectively in one validated change."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic_ai.messages import ModelMessage, ModelResponse, RetryPromptPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo

from masterplan.llm.roles import read_tagged
from masterplan.runtime import Runtime
from tests.plans.test_api import create
from tests.plans.test_editing import tasks_of

RETRY_MESSAGES: list[str] = []


def _suggest(info: AgentInfo, suggestions: list[dict[str, Any]]) -> ModelResponse:
    return ModelResponse(
        parts=[ToolCallPart(info.output_tools[0].name, json.dumps({"suggestions": suggestions}))]
    )


def _prompt(messages: list[ModelMessage]) -> str:
    return str(messages[0].parts[-1].content)  # type: ignore[union-attr]


def reviewer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Four suggestions, each valid alone; the last two write the same file and are refused together."""
    plan = json.loads(read_tagged(_prompt(messages), "plan") or "{}")
    first = plan["phases"][0]["milestones"][0]["tasks"][0]
    shared = {"op": "add_task", "milestone": 1, "name": "Shared", "target_files": ["src/shared_new.py"]}
    return _suggest(
        info,
        [
            {
                "operation": {"op": "update_task", "task": first["task_number"], "description": "Precise."},
                "rationale": "say when it is done",
            },
            {
                "operation": {"op": "update_task", "task": 2, "name": "Renamed by review"},
                "rationale": "clearer",
            },
            {"operation": shared, "rationale": "missing module"},
            {"operation": {**shared, "name": "Shared again"}, "rationale": "missing module too"},
        ],
    )


def invalid_then_valid(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """First an update of a task that does not exist; after the retry message a valid suggestion."""
    retries = [
        str(p.content)
        for m in messages
        for p in getattr(m, "parts", [])
        if isinstance(p, RetryPromptPart) or getattr(p, "outcome", None) == "retried"
    ]
    if not retries:
        return _suggest(
            info, [{"operation": {"op": "update_task", "task": 999, "name": "x"}, "rationale": "r"}]
        )
    RETRY_MESSAGES.append(retries[-1])
    return _suggest(
        info, [{"operation": {"op": "update_task", "task": 1, "name": "Fixed"}, "rationale": "r"}]
    )


def use_reviewer(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setattr(runtime.settings, "model_reviewer", name)


def review(client: TestClient, plan_id: str, **body: Any) -> Any:
    return client.post(f"/api/v1/masterplans/{plan_id}/review", json={"type": "refine_descriptions", **body})


def apply(client: TestClient, plan_id: str, iteration_id: str, indices: list[int]) -> Any:
    return client.post(
        f"/api/v1/masterplans/{plan_id}/apply-suggestions",
        json={"iteration_id": iteration_id, "indices": indices},
    )


def test_suggestions_applied_selectively_make_one_version(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_reviewer(runtime, monkeypatch, "function:tests.plans.test_plan_review:reviewer")
    plan = create(client)
    before = tasks_of(client.get(f"/api/v1/masterplans/{plan['id']}").json())
    response = review(client, plan["id"])
    assert response.status_code == 201, response.text
    iteration = response.json()
    assert iteration["status"] == "open" and len(iteration["suggestions"]) == 4
    assert iteration["suggestions"][0]["operation"]["op"] == "update_task"

    applied = apply(client, plan["id"], iteration["id"], [0])
    assert applied.status_code == 200, applied.text
    assert applied.json()["status"] == "applied" and applied.json()["applied_indices"] == [0]
    detail = client.get(f"/api/v1/masterplans/{plan['id']}").json()
    assert detail["version"] == 2
    assert (
        tasks_of(detail)[1]["description"] == "Precise." and tasks_of(detail)[2]["name"] == before[2]["name"]
    )
    diff = client.get(f"/api/v1/masterplans/{plan['id']}/diff", params={"from": 1, "to": 2}).json()
    changed = {c["task_number"]: c["fields"] for c in diff["tasks_changed"]}
    assert changed == {1: {"description": {"before": before[1]["description"], "after": "Precise."}}}
    assert diff["tasks_added"] == [] and diff["tasks_removed"] == []

    # Each alone is valid; together two unordered tasks write one file: refused, nothing changes.
    refused = apply(client, plan["id"], iteration["id"], [2, 3])
    assert refused.status_code == 422
    assert "src/shared_new.py" in refused.json()["error"]["message"]
    assert client.get(f"/api/v1/masterplans/{plan['id']}").json()["version"] == 2
    again = apply(client, plan["id"], iteration["id"], [0])
    assert again.status_code == 422 and "already applied" in again.json()["error"]["message"]

    listed = client.get(f"/api/v1/masterplans/{plan['id']}/review-iterations").json()
    assert [(i["id"], i["applied_indices"]) for i in listed] == [(iteration["id"], [0])]


def test_a_suggestion_that_cannot_apply_is_retried_naming_the_problem(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_reviewer(runtime, monkeypatch, "function:tests.plans.test_plan_review:invalid_then_valid")
    RETRY_MESSAGES.clear()
    plan = create(client)
    response = review(client, plan["id"], scope="task", target_id="1")
    assert response.status_code == 201, response.text
    assert [s["operation"]["name"] for s in response.json()["suggestions"]] == ["Fixed"]
    assert len(RETRY_MESSAGES) == 1
    assert "suggestion 0 (update_task): task 999 does not exist" in RETRY_MESSAGES[0]


def test_only_drafts_are_reviewed_and_unknown_plans_are_404(client: TestClient) -> None:
    plan = create(client)
    iteration = review(client, plan["id"]).json()
    assert client.post(f"/api/v1/masterplans/{plan['id']}/approve").status_code == 200
    assert review(client, plan["id"]).status_code == 409
    assert apply(client, plan["id"], iteration["id"], [0]).status_code == 409
    assert review(client, str(uuid.uuid4())).status_code == 404
    assert client.get(f"/api/v1/masterplans/{uuid.uuid4()}/review-iterations").status_code == 404


def test_sim_reviewer_suggestions_apply(client: TestClient) -> None:
    plan = create(client)
    response = review(client, plan["id"], scope="task", target_id="3")
    assert response.status_code == 201, response.text
    suggestions = response.json()["suggestions"]
    assert suggestions[0]["operation"] == {**suggestions[0]["operation"], "op": "update_task", "task": 3}
    applied = apply(client, plan["id"], response.json()["id"], [0, 1])
    assert applied.status_code == 200, applied.text
    detail = client.get(f"/api/v1/masterplans/{plan['id']}").json()
    assert detail["version"] == 2 and "(sim) Done when" in tasks_of(detail)[3]["description"]
    assert detail["description"].endswith("(sim) Reviewed for clarity.")
    unknown_target = review(client, plan["id"], scope="phase", target_id="99")
    assert unknown_target.status_code == 422 and "'99'" in unknown_target.json()["error"]["message"]
