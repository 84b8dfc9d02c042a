"""Driving executions in tests: import, approve and execute through the API, wait for an end state."""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from masterplan.models import Masterplan, Task
from masterplan.plans.schemas import PlanDocument
from masterplan.runtime import Runtime

API = "/api/v1/masterplans"


def approved_plan(client: TestClient, document: PlanDocument, **approval: Any) -> str:
    response = client.post(API, json=document.model_dump(mode="json"))
    assert response.status_code == 201, response.text
    plan_id: str = response.json()["id"]
    approved = client.post(f"{API}/{plan_id}/approve", json=approval)
    assert approved.status_code == 200, approved.text
    return plan_id


def execute(client: TestClient, plan_id: str) -> dict[str, Any]:
    response = client.post(f"{API}/{plan_id}/execute")
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_plan(runtime: Runtime, plan_id: str, statuses: set[str], timeout: float = 60.0) -> Masterplan:
    """Poll the plan row until its status is one of `statuses`."""
    deadline = time.monotonic() + timeout
    while True:
        with runtime.reading() as session:
            plan = session.get(Masterplan, uuid.UUID(plan_id))
            assert plan is not None
            if plan.status in statuses:
                session.expunge(plan)
                return plan
        if time.monotonic() > deadline:
            raise AssertionError(f"plan stayed {plan.status!r}, expected one of {statuses}")
        time.sleep(0.05)


def wait_until(check: Any, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def tasks_by_number(runtime: Runtime, plan_id: str) -> dict[int, Task]:
    with runtime.reading() as session:
        rows = session.scalars(select(Task).where(Task.masterplan_id == uuid.UUID(plan_id))).all()
        for row in rows:
            session.expunge(row)
        return {t.task_number: t for t in rows}
