"""Failures and retries, pause/resume/cancel, manual mode and cost guardrails, through the API."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from masterplan.models import HistoryEntry, TaskAttempt
from masterplan.plans.schemas import PlanDocument
from masterplan.plans.synthetic import synthetic_plan
from masterplan.runtime import Runtime
from masterplan.workspace.git import commit_count
from tests.execution import models
from tests.execution.helpers import API, approved_plan, execute, tasks_by_number, wait_plan, wait_until
from tests.execution.test_engine import event_types


def chain_plan() -> PlanDocument:
    """1 -> 2 -> 3 and an independent 4 -> 5."""
    tasks = [
        {"task_number": 1, "name": "Base", "target_files": ["app/base.py"]},
        {"task_number": 2, "name": "Service", "target_files": ["app/service.py"], "depends_on": [1]},
        {"task_number": 3, "name": "API", "target_files": ["app/api.py"], "depends_on": [2]},
        {"task_number": 4, "name": "Docs", "target_files": ["docs/index.md"]},
        {"task_number": 5, "name": "Config", "target_files": ["config.json"], "depends_on": [4]},
    ]
    return PlanDocument.model_validate(
        {
            "project_name": "Chain",
            "phases": [{"phase_type": "core", "name": "Core", "milestones": [{"name": "M", "tasks": tasks}]}],
        }
    )


@pytest.mark.parametrize(
    "settings", [{"model_coder": "sim:fail_tasks=2", "task_max_retries": 2}], indirect=True
)
def test_a_failing_task_blocks_its_dependents_and_retry_runs_them(
    client: TestClient, runtime: Runtime, settings: object
) -> None:
    plan_id = approved_plan(client, chain_plan())
    workspace = execute(client, plan_id)["workspace_path"]
    plan = wait_plan(runtime, plan_id, {"completed"})
    tasks = tasks_by_number(runtime, plan_id)
    assert {n: t.status for n, t in tasks.items()} == {
        1: "completed",
        2: "failed",
        3: "blocked",
        4: "completed",
        5: "completed",
    }
    assert (plan.completed_tasks, plan.failed_tasks, plan.blocked_tasks) == (3, 1, 1)
    failed = tasks[2]
    assert failed.retry_count == 3 and failed.last_error
    with runtime.session_factory() as session:
        attempts = session.scalars(select(TaskAttempt).where(TaskAttempt.task_id == failed.id)).all()
        assert [a.attempt_number for a in attempts] == [1, 2, 3]
        assert all(not a.passed and a.errors for a in attempts)
        assert [a.temperature for a in attempts] == sorted((a.temperature for a in attempts), reverse=True)
    assert commit_count(Path(workspace)) == 4

    # The simulator keeps failing task 2 under this model: retry with a model that answers well.
    runtime.settings.model_coder = "sim"
    refused = client.post(f"{API}/{plan_id}/tasks/{tasks[1].id}/retry")
    assert refused.status_code == 409
    response = client.post(f"{API}/{plan_id}/tasks/{failed.id}/retry")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"
    plan = wait_plan(runtime, plan_id, {"completed"})
    tasks = tasks_by_number(runtime, plan_id)
    assert all(t.status == "completed" for t in tasks.values())
    assert (plan.completed_tasks, plan.failed_tasks, plan.blocked_tasks, plan.progress_percent) == (
        5,
        0,
        0,
        100.0,
    )
    assert commit_count(Path(workspace)) == 6
    with runtime.session_factory() as session:
        actions = [h.action for h in session.scalars(select(HistoryEntry).order_by(HistoryEntry.created_at))]
        assert "retry_task" in actions and "reopen" in actions


@pytest.mark.parametrize("settings", [{"model_coder": "sim:latency=0.3", "parallelism": 2}], indirect=True)
def test_pause_finishes_tasks_in_flight_then_resume_and_cancel(client: TestClient, runtime: Runtime) -> None:
    plan_id = approved_plan(client, synthetic_plan(12, seed=5))
    execute(client, plan_id)
    wait_until(
        lambda: any(t.status == "in_progress" for t in tasks_by_number(runtime, plan_id).values()),
        what="a task",
    )
    paused = client.post(f"{API}/{plan_id}/pause", json={"reason": "lunch"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    wait_until(
        lambda: (
            not any(
                t.status in ("in_progress", "validating") for t in tasks_by_number(runtime, plan_id).values()
            )
        ),
        what="tasks in flight to finish",
    )
    done = {n for n, t in tasks_by_number(runtime, plan_id).items() if t.status == "completed"}
    assert 0 < len(done) < 12
    time.sleep(0.8)
    assert {n for n, t in tasks_by_number(runtime, plan_id).items() if t.status == "completed"} == done

    assert client.post(f"{API}/{plan_id}/resume").json()["status"] == "in_progress"
    wait_until(
        lambda: (
            len([t for t in tasks_by_number(runtime, plan_id).values() if t.status == "completed"])
            > len(done)
        )
    )
    cancelled = client.post(f"{API}/{plan_id}/cancel", json={"reason": "enough"})
    assert cancelled.json()["status"] == "cancelled"
    wait_until(
        lambda: all(t.status in ("completed", "skipped") for t in tasks_by_number(runtime, plan_id).values()),
        what="every task completed or skipped",
    )
    plan = wait_plan(runtime, plan_id, {"cancelled"})
    assert plan.skipped_tasks > 0 and plan.completed_tasks + plan.skipped_tasks == 12
    assert client.post(f"{API}/{plan_id}/resume").status_code == 409
    with runtime.session_factory() as session:
        actions = [h.action for h in session.scalars(select(HistoryEntry).order_by(HistoryEntry.created_at))]
    assert [a for a in actions if a in ("pause", "resume", "cancel")] == ["pause", "resume", "cancel"]


def test_manual_mode_runs_a_task_only_after_its_approval(client: TestClient, runtime: Runtime) -> None:
    plan_id = approved_plan(client, chain_plan(), execution_mode="manual")
    execute(client, plan_id)
    time.sleep(0.5)
    tasks = tasks_by_number(runtime, plan_id)
    assert all(t.status == "pending" for t in tasks.values())
    assert client.post(f"{API}/{plan_id}/tasks/{tasks[4].id}/approve").status_code == 200
    wait_until(lambda: tasks_by_number(runtime, plan_id)[4].status == "completed", what="task 4")
    assert tasks_by_number(runtime, plan_id)[1].status == "pending"
    for number in (1, 2, 3, 5):
        client.post(f"{API}/{plan_id}/tasks/{tasks[number].id}/approve").raise_for_status()
    plan = wait_plan(runtime, plan_id, {"completed"})
    assert plan.completed_tasks == 5
    done = tasks_by_number(runtime, plan_id)
    assert client.post(f"{API}/{plan_id}/tasks/{done[1].id}/approve").status_code == 409


# 50,000 output tokens at $40 per million: $2 per coder call.
PRICEY = {"model_coder": "sim:tokens=50000,price_in=10,price_out=40", "parallelism": 1}


@pytest.mark.parametrize("settings", [PRICEY], indirect=True)
def test_cost_limits_warn_once_then_pause_and_resume_after_raising(
    client: TestClient, runtime: Runtime
) -> None:
    plan_id = approved_plan(client, chain_plan(), soft_cost_limit_usd=3.0, hard_cost_limit_usd=5.0)
    execute(client, plan_id)
    plan = wait_plan(runtime, plan_id, {"paused"})
    # The task whose answer passed the limit is still finishing (validation, commit) when the plan pauses.
    wait_until(
        lambda: all(
            t.status not in ("in_progress", "validating") for t in tasks_by_number(runtime, plan_id).values()
        ),
        what="tasks in flight",
    )
    plan = wait_plan(runtime, plan_id, {"paused"})
    assert plan.status_reason == "cost_limit"
    assert 5.0 <= plan.actual_cost_usd < 7.0
    tasks = tasks_by_number(runtime, plan_id)
    # Actual cost: the tasks' attempts plus reviewer and acceptance-derivation calls.
    assert round(sum(t.cost_usd for t in tasks.values()) + plan.quality_cost_usd, 6) == plan.actual_cost_usd
    assert plan.completed_tasks == 3
    types = event_types(runtime, plan_id)
    warnings = [t for t in types if t == "cost_warning"]
    assert len(warnings) == 2  # the soft warning once, then the hard one

    assert client.post(f"{API}/{plan_id}/resume").status_code == 409
    bad = client.patch(
        f"{API}/{plan_id}/cost-limits", json={"soft_cost_limit_usd": 50, "hard_cost_limit_usd": 20}
    )
    assert bad.status_code == 422
    raised = client.patch(f"{API}/{plan_id}/cost-limits", json={"hard_cost_limit_usd": 20.0})
    assert raised.status_code == 200 and raised.json()["hard_cost_limit_usd"] == 20.0
    assert client.post(f"{API}/{plan_id}/resume").status_code == 200
    plan = wait_plan(runtime, plan_id, {"completed"})
    assert plan.completed_tasks == 5
    assert event_types(runtime, plan_id).count("cost_warning") == 2


@pytest.mark.parametrize("settings", [PRICEY], indirect=True)
def test_a_wave_that_would_pass_the_hard_limit_does_not_start(client: TestClient, runtime: Runtime) -> None:
    plan_id = approved_plan(client, chain_plan(), soft_cost_limit_usd=0.01, hard_cost_limit_usd=0.05)
    execute(client, plan_id)
    plan = wait_plan(runtime, plan_id, {"paused"})
    # Only the acceptance tests' derivation was paid for.
    assert plan.status_reason == "cost_limit" and plan.actual_cost_usd == plan.quality_cost_usd
    assert all(t.status == "pending" for t in tasks_by_number(runtime, plan_id).values())
    assert client.patch(f"{API}/{plan_id}/cost-limits", json={"hard_cost_limit_usd": 1000}).status_code == 200
    # Cost limits of a running plan cannot change.
    client.post(f"{API}/{plan_id}/resume").raise_for_status()
    assert client.patch(f"{API}/{plan_id}/cost-limits", json={"hard_cost_limit_usd": 2000}).status_code == 409
    wait_plan(runtime, plan_id, {"completed"})


@pytest.mark.parametrize(
    "settings",
    [{"model_coder": "function:tests.execution.models:counting_coder", "parallelism": 3}],
    indirect=True,
)
def test_parallelism_bounds_the_tasks_in_progress_and_the_model_calls(
    client: TestClient, runtime: Runtime
) -> None:
    tasks = [
        {"task_number": n, "name": f"Part {n}", "target_files": [f"app/part{n}.py"]} for n in range(1, 13)
    ]
    document = PlanDocument.model_validate(
        {
            "project_name": "Wide",
            "phases": [{"phase_type": "core", "name": "Core", "milestones": [{"name": "M", "tasks": tasks}]}],
        }
    )
    plan_id = approved_plan(client, document)
    workspace = execute(client, plan_id)["workspace_path"]
    most_in_progress = 0
    while (plan := wait_plan(runtime, plan_id, {"in_progress", "completed"})).status == "in_progress":
        statuses = [t.status for t in tasks_by_number(runtime, plan_id).values()]
        most_in_progress = max(most_in_progress, statuses.count("in_progress"))
        time.sleep(0.01)
    assert plan.completed_tasks == 12
    assert models.most_in_flight == 3 and 1 <= most_in_progress <= 3
    assert commit_count(Path(workspace)) == 13


@pytest.mark.parametrize("settings", [{"model_coder": "sim:latency=0.1", "parallelism": 8}], indirect=True)
def test_sequential_mode_runs_one_task_at_a_time(client: TestClient, runtime: Runtime) -> None:
    plan_id = approved_plan(client, chain_plan(), execution_mode="sequential")
    execute(client, plan_id)
    wait_plan(runtime, plan_id, {"completed"})
    spans = sorted((t.started_at, t.completed_at) for t in tasks_by_number(runtime, plan_id).values())
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end is not None and start is not None and end <= start
