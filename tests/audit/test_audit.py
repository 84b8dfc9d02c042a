"""GET /api/v1/audit: admins read who did what, filtered by actor, action, plan and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from masterplan.plans.synthetic import synthetic_plan
from masterplan.runtime import Runtime
from tests.auth.helpers import PASSWORD, add_user, bearer, sign_in


def test_audit_records_sign_ins_plan_actions_and_user_changes(client: TestClient, runtime: Runtime) -> None:
    add_user(runtime, "ann@example.com")
    anon = TestClient(client.app)
    start = datetime.now(UTC) - timedelta(seconds=1)
    anon.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": "wrong password"})
    access = sign_in(anon, "ann@example.com")["access_token"]
    plan = anon.post(
        "/api/v1/masterplans",
        json=synthetic_plan(6, seed=1).model_dump(mode="json"),
        headers=bearer(access),
    ).json()
    assert anon.post(f"/api/v1/masterplans/{plan['id']}/approve", headers=bearer(access)).status_code == 200

    everything = client.get("/api/v1/audit").json()
    actions = [e["action"] for e in everything["items"]]
    assert {"sign_in_failed", "signed_in", "approve"} <= set(actions)
    assert everything["total"] == len(everything["items"])

    signed = client.get("/api/v1/audit", params={"action": "signed_in", "actor": "ann@example.com"}).json()
    assert [e["action"] for e in signed["items"]] == ["signed_in"]
    entry = signed["items"][0]
    assert entry["target_type"] == "user" and entry["client_address"] == "testclient"
    assert entry["after"]["method"] == "password"

    several = client.get(
        "/api/v1/audit", params=[("action", "signed_in"), ("action", "sign_in_failed")]
    ).json()
    assert sorted(e["action"] for e in several["items"]) == ["sign_in_failed", "signed_in"]

    on_plan = client.get("/api/v1/audit", params={"masterplan_id": plan["id"]}).json()
    assert on_plan["items"] and all(e["masterplan_id"] == plan["id"] for e in on_plan["items"])
    approved = next(e for e in on_plan["items"] if e["action"] == "approve")
    assert approved["actor"] == "ann@example.com" and approved["before"]["status"] == "draft"

    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert client.get("/api/v1/audit", params={"since": later}).json()["total"] == 0
    window = client.get("/api/v1/audit", params={"since": start.isoformat(), "until": later}).json()
    assert window["total"] == everything["total"]
    page = client.get("/api/v1/audit", params={"limit": 1, "offset": 1}).json()
    assert len(page["items"]) == 1 and page["items"][0]["id"] == everything["items"][1]["id"]


def test_user_changes_are_audited_without_secrets(client: TestClient) -> None:
    user = client.post("/api/v1/users", json={"email": "eve@example.com", "password": PASSWORD}).json()
    client.patch(f"/api/v1/users/{user['id']}", json={"role": "admin"})
    client.patch(f"/api/v1/users/{user['id']}", json={"is_active": False})
    entries = client.get("/api/v1/audit", params={"target_id": user["id"]}).json()["items"]
    assert [e["action"] for e in reversed(entries)] == ["user_created", "role_changed", "user_disabled"]
    assert PASSWORD not in str(entries)
    assert entries[-1]["actor"] == "local@masterplan"


def test_bad_filters_are_clear_errors(client: TestClient) -> None:
    backwards = client.get(
        "/api/v1/audit", params={"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"}
    )
    assert backwards.status_code == 422 and backwards.json()["error"]["code"] == "invalid_time_range"
    assert client.get("/api/v1/audit", params={"masterplan_id": "nope"}).status_code == 422
    assert client.get("/api/v1/audit", params={"limit": 0}).status_code == 422
