"""Gate S inside real executions (DBOS, sim coder, real git, real sandboxed tests) through the API."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from masterplan.models import ExecutionEvent, HistoryEntry
from masterplan.runtime import Runtime
from tests.execution.helpers import API, approved_plan, execute, tasks_by_number, wait_plan
from tests.fixtures.running_plan import calc_document


def put_tests(client: TestClient, plan_id: str, tests: list[dict[str, Any]]) -> None:
    response = client.put(f"{API}/{plan_id}/acceptance-tests", json={"tests": tests})
    assert response.status_code == 200, response.text


def command(name: str, covers: list[int], cmd: str, priority: str = "must") -> dict[str, Any]:
    return {"name": name, "covers_tasks": covers, "kind": "command", "command": cmd, "priority": priority}


def events(runtime: Runtime, plan_id: str) -> list[tuple[str, dict[str, Any]]]:
    with runtime.reading() as session:
        rows = session.execute(
            select(ExecutionEvent.type, ExecutionEvent.payload)
            .where(ExecutionEvent.stream == f"masterplan:{plan_id}")
            .order_by(ExecutionEvent.seq)
        ).all()
        return [(t, p) for t, p in rows]


def test_passing_waves_go_on_a_failing_must_test_pauses_then_override_and_resume(
    client: TestClient, runtime: Runtime
) -> None:
    plan_id = approved_plan(client, calc_document())
    put_tests(
        client,
        plan_id,
        [
            command("operations exist", [1], "test -s calc/ops.py && python -m py_compile calc/ops.py"),
            command("api has a readme", [2], "test -f calc/README.md"),
            command("cli exists", [3], "test -s calc/cli.py"),
        ],
    )
    execute(client, plan_id)

    plan = wait_plan(runtime, plan_id, {"paused", "completed", "failed"})
    assert plan.status == "paused"
    assert plan.status_reason == "gate_failed: failing acceptance tests: 'api has a readme' (must)"
    tasks = tasks_by_number(runtime, plan_id)
    assert {n: t.status for n, t in tasks.items()} == {1: "completed", 2: "completed", 3: "pending"}
    log = events(runtime, plan_id)
    gates = [p for t, p in log if t == "gate_validation_result"]
    assert [(g["wave_number"], g["gate_passed"]) for g in gates] == [(1, True), (2, False)]
    assert gates[-1]["must_rate"] == 0.5
    results = {p["message"].split(":")[0]: p["passed"] for t, p in log if t == "acceptance_test_result"}
    assert results == {"operations exist": True, "api has a readme": False}
    kinds = [t for t, _ in log]
    assert kinds.index("acceptance_test_start") < kinds.index("acceptance_test_result")
    # Task 2 completed cleanly (sim), so its confidence needs no review yet.
    assert tasks[2].confidence is not None and tasks[2].confidence_parts["integration"] == 0.0

    # Resuming without a fix re-runs the failing test first and pauses again before wave 3.
    assert client.post(f"{API}/{plan_id}/resume").status_code == 200
    plan = wait_plan(runtime, plan_id, {"paused"})
    wait_for_gate_count(runtime, plan_id, 3)
    assert tasks_by_number(runtime, plan_id)[3].status == "pending"

    override = client.post(f"{API}/{plan_id}/gate/override", json={"reason": "the readme comes later"})
    assert override.status_code == 200 and override.json()["gate_passed"] is True
    assert client.post(f"{API}/{plan_id}/resume").status_code == 200
    plan = wait_plan(runtime, plan_id, {"completed", "failed"})
    assert plan.status == "completed" and plan.completed_tasks == 3
    listed = {t["name"]: t["status"] for t in client.get(f"{API}/{plan_id}/acceptance-tests").json()["items"]}
    assert listed == {"operations exist": "passed", "api has a readme": "waived", "cli exists": "passed"}
    with runtime.reading() as session:
        actions = session.scalars(
            select(HistoryEntry.action).where(HistoryEntry.masterplan_id == uuid.UUID(plan_id))
        ).all()
        assert "gate_failed" in actions and "gate_override" in actions


def wait_for_gate_count(runtime: Runtime, plan_id: str, count: int) -> None:
    from tests.execution.helpers import wait_until

    wait_until(
        lambda: sum(1 for t, _ in events(runtime, plan_id) if t == "gate_validation_result") >= count,
        what=f"{count} gate results",
    )


def test_a_plan_executed_with_the_simulator_derives_and_runs_its_tests(
    client: TestClient, runtime: Runtime
) -> None:
    plan_id = approved_plan(client, calc_document())
    execute(client, plan_id)
    plan = wait_plan(runtime, plan_id, {"completed", "failed", "paused"})
    assert plan.status == "completed", plan.status_reason
    listed = client.get(f"{API}/{plan_id}/acceptance-tests").json()
    assert listed["items"], "the simulator derives at least one test"
    assert all(t["status"] == "passed" for t in listed["items"])
    assert listed["gate"]["gate_passed"] is True
    tasks = tasks_by_number(runtime, plan_id)
    assert all(t.confidence is not None for t in tasks.values())
    from tests.execution.helpers import wait_until

    # The lowest 15% (rounded up) is sampled by the run's last step, just after the plan completes.
    wait_until(
        lambda: client.get("/api/v1/reviews", params={"masterplan_id": plan_id}).json()["total"] >= 1,
        what="completion reviews",
    )
