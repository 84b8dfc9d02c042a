"""POST /masterplans/generate and GET /generations/{id} over HTTP, with DBOS in the app's lifespan."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from masterplan.auth.tokens import hash_token
from masterplan.models import ApiToken, User
from masterplan.runtime import Runtime

FAKES = "function:tests.generation.fakes"


def wait_done(client: TestClient, generation_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/api/v1/generations/{generation_id}").json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"generation {generation_id} did not finish: {body}")


def other_user_headers(runtime: Runtime) -> dict[str, str]:
    with runtime.transaction() as session:
        user = User(email="someone@else", role="member")
        session.add(user)
        session.flush()
        session.add(ApiToken(user_id=user.id, name="t", token_hash=hash_token("mp_other")))
    return {"Authorization": "Bearer mp_other"}


def test_generate_returns_202_then_the_plan(client: TestClient) -> None:
    response = client.post("/api/v1/masterplans/generate", json={"request": "a todo REST API with users"})
    assert response.status_code == 202
    accepted = response.json()
    assert set(accepted) == {"generation_id", "conversation_id"}

    done = wait_done(client, accepted["generation_id"])
    assert done["status"] == "completed", done["error"]
    assert done["stage"] == "complete"
    assert done["model"] == "sim"
    assert done["output_tokens"] > 0 and done["cost_usd"] > 0
    plan = client.get(f"/api/v1/masterplans/{done['masterplan_id']}").json()
    assert plan["status"] == "draft"
    assert plan["total_tasks"] == 12  # the sim's default plan size
    assert plan["generation_output_tokens"] == done["output_tokens"]
    assert plan["discovery_id"] == done["discovery_id"]
    discovery = client.get(f"/api/v1/discovery/{done['discovery_id']}").json()
    assert discovery["domain"] and discovery["llm_model"] == "sim"
    messages = client.get(f"/api/v1/conversations/{accepted['conversation_id']}/messages").json()["items"]
    assert messages[-1]["masterplan_id"] == done["masterplan_id"]


def test_a_failed_generation_shows_its_reason(client: TestClient) -> None:
    response = client.post(
        "/api/v1/masterplans/generate",
        json={"request": "a todo API", "model": f"{FAKES}:always_unknown_dependency"},
    )
    done = wait_done(client, response.json()["generation_id"])
    assert done["status"] == "failed"
    assert "depends on unknown task 99" in done["error"]
    assert done["masterplan_id"] is None
    assert client.get("/api/v1/masterplans").json()["total"] == 0


def test_bad_requests_are_rejected_with_reasons(client: TestClient) -> None:
    bad_model = client.post("/api/v1/masterplans/generate", json={"request": "a todo API", "model": "gpt4"})
    assert bad_model.status_code == 422
    assert bad_model.json()["error"]["code"] == "invalid_model"
    assert "anthropic:<model>" in bad_model.json()["error"]["message"]
    assert client.post("/api/v1/masterplans/generate", json={"request": ""}).status_code == 422
    unknown = client.post(
        "/api/v1/masterplans/generate",
        json={"request": "a todo API", "conversation_id": "00000000-0000-0000-0000-000000000000"},
    )
    assert unknown.status_code == 404


def test_another_users_generation_is_not_found(client: TestClient, runtime: Runtime) -> None:
    accepted = client.post("/api/v1/masterplans/generate", json={"request": "a todo API"}).json()
    wait_done(client, accepted["generation_id"])
    headers = other_user_headers(runtime)
    assert client.get(f"/api/v1/generations/{accepted['generation_id']}", headers=headers).status_code == 404
    response = client.post(
        "/api/v1/masterplans/generate",
        json={"request": "a todo API", "conversation_id": accepted["conversation_id"]},
        headers=headers,
    )
    assert response.status_code == 404
