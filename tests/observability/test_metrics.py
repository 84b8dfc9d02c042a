"""Prometheus metrics and readiness, read through the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.plans.test_api import create


def test_metrics_reflect_the_database_and_need_a_token(client: TestClient) -> None:
    create(client)
    plan = create(client)
    client.post(f"/api/v1/masterplans/{plan['id']}/approve")
    body = client.get("/metrics").text
    assert 'masterplan_plans{status="draft"} 1.0' in body
    assert 'masterplan_plans{status="approved"} 1.0' in body
    assert 'masterplan_tasks{status="pending"} 24.0' in body
    assert "masterplan_review_queue_size 0.0" in body
    assert "masterplan_http_request_duration_seconds_count" in body
    assert client.get("/metrics", headers={"Authorization": ""}).status_code == 401


def test_ready_reports_the_database(client: TestClient) -> None:
    response = client.get("/api/v1/ready")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_summary_counts_the_users_plans(client: TestClient) -> None:
    create(client)
    plan = create(client)
    client.post(f"/api/v1/masterplans/{plan['id']}/approve")
    summary = client.get("/api/v1/metrics/summary").json()
    assert summary["plans_total"] == 2
    assert summary["plans_by_status"] == {"draft": 1, "approved": 1}
    assert summary["task_success_rate"] is None and summary["total_retries"] == 0
    assert {p["masterplan_id"] for p in summary["plans"]} >= {plan["id"]}
