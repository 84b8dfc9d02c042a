"""Whole runs through the API: real database, real DBOS, real files and git; the model is a stand-in."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from masterplan.models import ExecutionEvent, HistoryEntry, Subtask, Task, TaskAttempt
from masterplan.plans.synthetic import synthetic_plan
from masterplan.review.repository import has_review
from masterplan.review.scoring import COMPLETION_SHARE
from masterplan.runtime import Runtime
from masterplan.workspace.git import commit_count, commit_files, git
from tests.execution import models
from tests.execution.helpers import API, approved_plan, execute, tasks_by_number, wait_plan

TRACEABLE = {"model_coder": "function:tests.execution.models:traceable_coder"}


def event_types(runtime: Runtime, plan_id: str) -> list[str]:
    with runtime.session_factory() as session:
        return list(
            session.scalars(
                select(ExecutionEvent.type)
                .where(ExecutionEvent.stream == f"masterplan:{plan_id}")
                .order_by(ExecutionEvent.seq)
            )
        )


@pytest.mark.parametrize("settings", [TRACEABLE], indirect=True)
def test_twenty_tasks_write_exactly_their_files_one_commit_each(client: TestClient, runtime: Runtime) -> None:
    document = synthetic_plan(20, seed=3)
    plan_id = approved_plan(client, document)
    started = execute(client, plan_id)
    assert started["total_tasks"] == 20
    workspace = Path(started["workspace_path"])
    assert workspace.is_dir() and started["workspace_id"] in started["workspace_path"]

    plan = wait_plan(runtime, plan_id, {"completed", "failed"})
    assert plan.status == "completed"
    # Whoever sees the plan completed finds the completion sample in the review queue already.
    with runtime.session_factory() as session:
        scored = session.scalars(
            select(Task)
            .where(Task.masterplan_id == plan.id, Task.confidence.is_not(None))
            .order_by(Task.confidence, Task.task_number)
        ).all()
        assert len(scored) == 20
        assert all(has_review(session, t.id) for t in scored[: math.ceil(COMPLETION_SHARE * 20)])
    errors = {n: t.last_error for n, t in tasks_by_number(runtime, plan_id).items() if t.last_error}
    assert not errors
    assert (plan.completed_tasks, plan.failed_tasks, plan.progress_percent) == (20, 0, 100.0)

    tasks = tasks_by_number(runtime, plan_id)
    declared = {path: n for n, t in tasks.items() for path in t.target_files}
    written = sorted(
        str(p.relative_to(workspace)) for p in workspace.rglob("*") if p.is_file() and ".git" not in p.parts
    )
    assert written == sorted(declared), "nothing outside target_files was written"
    for path, number in declared.items():
        assert models.content_for(path, number) == (workspace / path).read_text()
    assert not (workspace / "stray").exists(), "the answer with a stray file was retried, never written"
    assert commit_count(workspace) == 21
    for number, task in tasks.items():
        assert task.status == "completed"
        assert task.commit_sha and sorted(commit_files(workspace, task.commit_sha)) == sorted(
            task.target_files
        )
        assert (
            git(workspace, "log", "-1", "--format=%s", task.commit_sha).strip()
            == f"task {number}: {task.name}"
        )
        assert task.modified_files == task.target_files
        assert task.validation_passed is True
    assert git(workspace, "status", "--porcelain").strip() == ""

    with runtime.session_factory() as session:
        assert (
            session.scalar(select(func.count()).select_from(Subtask).where(Subtask.status != "completed"))
            == 0
        )
        stray_task = tasks[7]
        attempts = session.scalars(select(TaskAttempt).where(TaskAttempt.task_id == stray_task.id)).all()
        assert [a.passed for a in attempts] == [True]
        assert stray_task.input_tokens == 2000, "both requests of the refused-then-fixed answer are counted"

    types = event_types(runtime, plan_id)
    assert types[0:2] == ["masterplan_status_changed", "masterplan_status_changed"]  # approved, in_progress
    assert types[2] == "masterplan_execution_start"
    assert types[-1] == "masterplan_status_changed"  # completed, after the completion sample's reviews
    waves = len({t.wave for t in tasks.values()})
    assert types.count("wave_execution_start") == waves
    assert types.count("wave_execution_complete") == waves
    assert types.count("task_execution_complete") == 20
    assert types.count("atom_execution_complete") == 20


def test_execute_refuses_unknown_unapproved_and_running_plans(client: TestClient, runtime: Runtime) -> None:
    assert client.post(f"{API}/00000000-0000-0000-0000-000000000000/execute").status_code == 404
    draft = client.post(API, json=synthetic_plan(3, seed=1).model_dump(mode="json")).json()["id"]
    response = client.post(f"{API}/{draft}/execute")
    assert response.status_code == 409
    assert "approved" in response.json()["error"]["message"]


def test_concurrent_execute_calls_start_exactly_one_run(client: TestClient, runtime: Runtime) -> None:
    plan_id = approved_plan(client, synthetic_plan(4, seed=2))
    responses: list[object] = []
    barrier = threading.Barrier(4)

    def call() -> None:
        barrier.wait()
        responses.append(client.post(f"{API}/{plan_id}/execute"))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(r.status_code for r in responses)  # type: ignore[attr-defined]
    assert codes == [202, 409, 409, 409]
    winner = next(r for r in responses if r.status_code == 202).json()  # type: ignore[attr-defined]
    for loser in (r for r in responses if r.status_code == 409):  # type: ignore[attr-defined]
        assert loser.json()["error"]["details"]["execution_id"] == winner["execution_id"]
        assert winner["execution_id"] in loser.json()["error"]["message"]
    wait_plan(runtime, plan_id, {"completed"})
    workspaces = list(runtime.settings.resolved_workspaces_dir.iterdir())
    assert len(workspaces) == 1, "the refused calls left no workspace behind"
    with runtime.session_factory() as session:
        executes = session.scalar(
            select(func.count()).select_from(HistoryEntry).where(HistoryEntry.action == "execute")
        )
        assert executes == 1


def test_task_files_and_diff_endpoints(client: TestClient, runtime: Runtime) -> None:
    plan_id = approved_plan(client, synthetic_plan(3, seed=4))
    execute(client, plan_id)
    wait_plan(runtime, plan_id, {"completed"})
    task = tasks_by_number(runtime, plan_id)[1]
    files = client.get(f"{API}/{plan_id}/tasks/{task.id}/files").json()
    assert [f["path"] for f in files] == task.target_files
    assert files[0]["content"]
    diff = client.get(f"{API}/{plan_id}/tasks/{task.id}/diff").json()
    assert diff["commit_sha"] == task.commit_sha
    assert f"+++ b/{task.target_files[0]}" in diff["diff"]
    missing = client.get(f"{API}/{plan_id}/tasks/00000000-0000-0000-0000-000000000000/files")
    assert missing.status_code == 404
    # A target replaced by a symlink out of the workspace is not followed.
    workspace = Path(client.get(f"{API}/{plan_id}").json()["workspace_path"])
    target = workspace / task.target_files[0]
    target.unlink()
    target.symlink_to("/etc/hostname")
    assert client.get(f"{API}/{plan_id}/tasks/{task.id}/files").json() == []
