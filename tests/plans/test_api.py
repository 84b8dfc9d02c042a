"""Plan API: import, detail round trip, list, approve/reject, history, delete, errors."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient

from masterplan.plans.synthetic import synthetic_plan


def small_plan(**changes: Any) -> dict[str, Any]:
    doc = synthetic_plan(12, seed=3, project_name="Todo API").model_dump(mode="json")
    doc.update(changes)
    return doc


def create(client: TestClient, doc: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post("/api/v1/masterplans", json=doc or small_plan())
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_import_and_detail_round_trip_keeps_every_field(client: TestClient) -> None:
    doc = small_plan(tech_stack=["python", "fastapi"], architecture_style="hexagonal")
    summary = create(client, doc)
    assert summary["status"] == "draft"
    assert summary["total_tasks"] == 12

    detail = client.get(f"/api/v1/masterplans/{summary['id']}").json()
    assert detail["tech_stack"] == ["python", "fastapi"]
    assert detail["architecture_style"] == "hexagonal"
    assert detail["estimate"]["waves"] >= 1
    sent = [t for p in doc["phases"] for m in p["milestones"] for t in m["tasks"]]
    got = [t for p in detail["phases"] for m in p["milestones"] for t in m["tasks"]]
    assert [t["task_number"] for t in got] == [t["task_number"] for t in sent]
    for want, have in zip(sent, got, strict=True):
        for key in ("name", "description", "complexity", "task_type", "depends_on", "target_files"):
            assert have[key] == want[key], key
        assert [s["name"] for s in have["subtasks"]] == [s["name"] for s in want["subtasks"]]
        assert have["status"] == "pending"
        assert have["max_retries"] == 3
    assert [p["phase_type"] for p in detail["phases"]] == [p["phase_type"] for p in doc["phases"]]


def test_validation_errors_are_clear_422(client: TestClient) -> None:
    doc = small_plan()
    tasks = doc["phases"][1]["milestones"][0]["tasks"]
    tasks[0]["depends_on"] = [999]
    tasks[1]["target_files"] = ["../etc/passwd"]
    response = client.post("/api/v1/masterplans", json=doc)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "plan_invalid"
    assert any("unknown task 999" in p for p in error["details"])
    assert any("'..' segment" in p for p in error["details"])
    assert client.get("/api/v1/masterplans").json()["total"] == 0


def test_list_filters_and_paginates_newest_first(client: TestClient) -> None:
    first = create(client, small_plan(project_name="Alpha service"))
    second = create(client, small_plan(project_name="Beta tool"))
    client.post(f"/api/v1/masterplans/{first['id']}/approve")
    page = client.get("/api/v1/masterplans").json()
    assert [p["id"] for p in page["items"]] == [second["id"], first["id"]]
    approved = client.get("/api/v1/masterplans", params={"status": "approved"}).json()
    assert [p["id"] for p in approved["items"]] == [first["id"]]
    found = client.get("/api/v1/masterplans", params={"q": "beta"}).json()
    assert [p["id"] for p in found["items"]] == [second["id"]]
    one = client.get("/api/v1/masterplans", params={"limit": 1, "offset": 1}).json()
    assert one["total"] == 2 and [p["id"] for p in one["items"]] == [first["id"]]


def test_approve_then_approve_again_is_409_naming_status(client: TestClient) -> None:
    plan = create(client)
    ok = client.post(
        f"/api/v1/masterplans/{plan['id']}/approve",
        json={"hard_cost_limit_usd": 20, "soft_cost_limit_usd": 5},
    )
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    again = client.post(f"/api/v1/masterplans/{plan['id']}/approve")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_status_transition"
    assert "'approved'" in again.json()["error"]["message"]
    detail = client.get(f"/api/v1/masterplans/{plan['id']}").json()
    assert (detail["soft_cost_limit_usd"], detail["hard_cost_limit_usd"]) == (5, 20)


def test_reject_stores_reason_and_history(client: TestClient) -> None:
    plan = create(client)
    response = client.post(f"/api/v1/masterplans/{plan['id']}/reject", json={"reason": "too big"})
    assert response.json()["status"] == "rejected"
    assert response.json()["status_reason"] == "too big"
    history = client.get(f"/api/v1/masterplans/{plan['id']}/history").json()
    assert [h["action"] for h in history] == ["imported", "reject"]
    assert history[1]["actor"] == "local@masterplan"
    assert history[1]["before"] == {"status": "draft"} and history[1]["after"]["status"] == "rejected"
    assert history[1]["reason"] == "too big"
    assert client.post(f"/api/v1/masterplans/{plan['id']}/approve").status_code == 409


def test_unknown_id_is_404_and_bad_id_is_422(client: TestClient) -> None:
    missing = uuid.uuid4()
    for method, path in [
        ("get", f"/api/v1/masterplans/{missing}"),
        ("post", f"/api/v1/masterplans/{missing}/approve"),
        ("post", f"/api/v1/masterplans/{missing}/reject"),
        ("delete", f"/api/v1/masterplans/{missing}"),
    ]:
        response = client.request(method, path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "masterplan_not_found"
    assert client.get("/api/v1/masterplans/not-a-uuid").status_code == 422


def test_delete_only_draft_or_rejected(client: TestClient) -> None:
    draft = create(client)
    assert client.delete(f"/api/v1/masterplans/{draft['id']}").status_code == 204
    assert client.get(f"/api/v1/masterplans/{draft['id']}").status_code == 404
    approved = create(client)
    client.post(f"/api/v1/masterplans/{approved['id']}/approve")
    response = client.delete(f"/api/v1/masterplans/{approved['id']}")
    assert response.status_code == 409 and "approved" in response.json()["error"]["message"]


def test_requests_without_a_valid_token_are_401(client: TestClient) -> None:
    assert client.get("/api/v1/masterplans", headers={"Authorization": ""}).status_code == 401
    assert client.get("/api/v1/masterplans", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/v1/health").status_code == 200


def test_oversized_body_is_413(client: TestClient) -> None:
    response = client.post(
        "/api/v1/masterplans", content=b"x" * 6_000_000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_concurrent_approve_records_exactly_one_approval(client: TestClient) -> None:
    plan = create(client)
    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(
            pool.map(lambda _: client.post(f"/api/v1/masterplans/{plan['id']}/approve").status_code, range(6))
        )
    assert sorted(codes) == [200] + [409] * 5
    history = client.get(f"/api/v1/masterplans/{plan['id']}/history").json()
    assert [h["action"] for h in history].count("approve") == 1
