"""The review API: queue, detail, and each decision's effect on files, git, task status, audit and events."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from masterplan.models import AcceptanceTest, ExecutionEvent, HistoryEntry, Masterplan, Review, Task, User
from masterplan.plans.service import change_plan_status
from masterplan.review.scoring import score_task
from masterplan.runtime import Runtime
from tests.fixtures.running_plan import (
    CALC_OPS,
    RunningPlan,
    calc_document,
    complete_task,
    fail_task,
    running_plan,
)

FIXED_OPS = CALC_OPS.replace("return a * b", "return a * b  # reviewed")


def git_log(root: Path) -> list[str]:
    out = subprocess.run(
        ["git", "log", "--format=%s", "main"], cwd=root, capture_output=True, text=True, check=True
    )
    return out.stdout.splitlines()


def git_status(root: Path) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def reviewed(runtime: Runtime, local_user: User) -> tuple[RunningPlan, uuid.UUID]:
    """A running plan whose task 1 completed shakily (critical, two failed attempts): a high review."""
    plan = running_plan(runtime, local_user, calc_document(("critical", "medium", "high")))
    complete_task(runtime, plan, 1, attempts=[(0, 2), (0, 2), (1, 2)])
    with runtime.transaction() as session:
        session.add(
            AcceptanceTest(
                id=uuid.uuid4(),
                masterplan_id=plan.id,
                name="adds",
                covers_tasks=[1],
                kind="command",
                command="true",
                status="failed",
            )
        )
    score = score_task(runtime, plan.task_ids[1])
    assert score is not None and score.review_id is not None
    return plan, score.review_id


def task_row(runtime: Runtime, plan: RunningPlan, number: int = 1) -> Task:
    with runtime.reading() as session:
        task = session.get(Task, plan.task_ids[number])
        assert task is not None
        session.expunge(task)
        return task


def audit(runtime: Runtime, review_id: uuid.UUID) -> list[str]:
    with runtime.reading() as session:
        return list(
            session.scalars(
                select(HistoryEntry.action)
                .where(HistoryEntry.target_id == str(review_id))
                .order_by(HistoryEntry.created_at)
            ).all()
        )


def updates(runtime: Runtime, plan: RunningPlan) -> list[dict[str, Any]]:
    with runtime.reading() as session:
        return list(
            session.scalars(
                select(ExecutionEvent.payload)
                .where(
                    ExecutionEvent.stream == f"masterplan:{plan.id}", ExecutionEvent.type == "review_updated"
                )
                .order_by(ExecutionEvent.seq)
            ).all()
        )


def test_queue_lists_filters_and_sorts_by_confidence(
    runtime: Runtime, client: TestClient, reviewed: tuple[RunningPlan, uuid.UUID]
) -> None:
    plan, _review_id = reviewed
    complete_task(runtime, plan, 2, attempts=[(0, 2), (0, 2), (0, 2), (1, 3)])
    lower = score_task(runtime, plan.task_ids[2])
    assert lower is not None and lower.review_id is not None
    page = client.get("/api/v1/reviews").json()
    assert page["total"] == 2
    assert [i["task_number"] for i in page["items"]] == [2, 1]  # lowest confidence first
    assert page["items"][0]["confidence"] < page["items"][1]["confidence"]
    newest = client.get("/api/v1/reviews", params={"sort": "-confidence"}).json()
    assert [i["task_number"] for i in newest["items"]] == [1, 2]
    only = client.get("/api/v1/reviews", params={"priority": "high", "masterplan_id": str(plan.id)}).json()
    assert {i["priority"] for i in only["items"]} == {"high"}
    assert client.get("/api/v1/reviews", params={"status": "approved"}).json()["total"] == 0
    assert client.get("/api/v1/reviews", params={"masterplan_id": str(uuid.uuid4())}).json()["total"] == 0
    assert client.get("/api/v1/reviews", params={"status": "bogus"}).status_code == 422


def test_detail_has_task_diff_logs_errors_and_suggestions(
    client: TestClient, reviewed: tuple[RunningPlan, uuid.UUID]
) -> None:
    _plan, review_id = reviewed
    detail = client.get(f"/api/v1/reviews/{review_id}").json()
    assert detail["task"]["task_number"] == 1 and detail["task"]["status"] == "completed"
    assert "+def add(a, b):" in detail["diff"] and "calc/ops.py" in detail["diff"]
    assert "calc/ops.py compiles" in detail["validation_logs"]
    assert detail["errors"] == ["attempt 1: check failed", "attempt 2: check failed"]
    assert detail["suggestions"] and detail["confidence_parts"]["complexity"] == 0.25
    assert client.get(f"/api/v1/reviews/{uuid.uuid4()}").status_code == 404


def test_approve_keeps_files_git_and_task(
    runtime: Runtime, client: TestClient, reviewed: tuple[RunningPlan, uuid.UUID]
) -> None:
    plan, review_id = reviewed
    log_before = git_log(plan.workspace)
    response = client.post(f"/api/v1/reviews/{review_id}/approve")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "approved"
    assert task_row(runtime, plan).status == "completed"
    assert (plan.workspace / "calc/ops.py").read_text() == CALC_OPS
    assert git_log(plan.workspace) == log_before
    assert audit(runtime, review_id) == ["review_created", "review_approved"]
    assert updates(runtime, plan)[-1]["action"] == "approved"
    again = client.post(f"/api/v1/reviews/{review_id}/approve")
    assert again.status_code == 409 and "allowed from 'approved': none" in again.json()["error"]["message"]


def test_reject_fails_the_task_and_keeps_its_files(
    runtime: Runtime, client: TestClient, reviewed: tuple[RunningPlan, uuid.UUID]
) -> None:
    plan, review_id = reviewed
    log_before = git_log(plan.workspace)
    assert client.post(f"/api/v1/reviews/{review_id}/reject", json={"feedback": ""}).status_code == 422
    response = client.post(f"/api/v1/reviews/{review_id}/reject", json={"feedback": "mul must handle floats"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "rejected" and body["reviewer_feedback"] == "mul must handle floats"
    task = task_row(runtime, plan)
    assert task.status == "failed" and task.last_error == "rejected in review: mul must handle floats"
    assert (plan.workspace / "calc/ops.py").read_text() == CALC_OPS
    assert git_log(plan.workspace) == log_before
    with runtime.reading() as session:
        row = session.get(Masterplan, plan.id)
        assert row is not None and row.failed_tasks == 1 and row.completed_tasks == 0
    assert audit(runtime, review_id)[-1] == "review_rejected"
    assert updates(runtime, plan)[-1]["status"] == "rejected"


def test_edit_validates_writes_and_commits(
    runtime: Runtime, client: TestClient, reviewed: tuple[RunningPlan, uuid.UUID]
) -> None:
    plan, review_id = reviewed
    url = f"/api/v1/reviews/{review_id}/edit"
    outside = client.post(url, json={"files": [{"path": "calc/api.py", "content": "x = 1\n"}]})
    assert outside.status_code == 422 and "not a target file of task 1" in outside.text
    escape = client.post(url, json={"files": [{"path": "../evil.py", "content": "x = 1\n"}]})
    assert escape.status_code == 422 and "climbs out" in escape.text
    broken = client.post(url, json={"files": [{"path": "calc/ops.py", "content": "def add(:\n"}]})
    assert broken.status_code == 422 and "calc/ops.py compiles" in broken.text
    same = client.post(url, json={"files": [{"path": "calc/ops.py", "content": CALC_OPS}]})
    assert same.status_code == 422 and "the same as the files" in same.text
    assert (plan.workspace / "calc/ops.py").read_text() == CALC_OPS
    head_before = task_row(runtime, plan).commit_sha

    response = client.post(
        url, json={"files": [{"path": "calc/ops.py", "content": FIXED_OPS}], "message": "note the review"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "edited"
    assert (plan.workspace / "calc/ops.py").read_text() == FIXED_OPS
    assert git_log(plan.workspace)[0] == "review edit of task 1: Operations"
    assert git_status(plan.workspace) == ""
    task = task_row(runtime, plan)
    assert task.status == "completed" and task.commit_sha != head_before and task.validation_passed
    assert "+    return a * b  # reviewed" in response.json()["diff"]
    with runtime.reading() as session:
        assert session.scalars(select(AcceptanceTest.status)).all() == ["pending"]  # runs again at the gate
        entry = session.scalars(select(HistoryEntry).where(HistoryEntry.action == "review_edited")).one()
        assert entry.after is not None and entry.after["commit_sha"] == task.commit_sha
        assert entry.before is not None and entry.before["commit_sha"] == head_before
    assert updates(runtime, plan)[-1]["action"] == "edited"
    assert client.post(url, json={"files": [{"path": "calc/ops.py", "content": CALC_OPS}]}).status_code == 409


def pause(runtime: Runtime, plan: RunningPlan) -> None:
    with runtime.transaction() as session:
        row = session.get(Masterplan, plan.id)
        assert row is not None
        change_plan_status(session, row, "paused", actor=None, action="pause")


def review_row(runtime: Runtime, review_id: uuid.UUID) -> Review:
    with runtime.reading() as session:
        review = session.get(Review, review_id)
        assert review is not None
        session.expunge(review)
        return review


def test_regenerate_sends_the_task_back_and_a_good_result_approves(
    runtime: Runtime, client: TestClient, reviewed: tuple[RunningPlan, uuid.UUID]
) -> None:
    plan, review_id = reviewed
    pause(runtime, plan)  # a paused plan runs the task once resumed: nothing starts here
    response = client.post(
        f"/api/v1/reviews/{review_id}/regenerate", json={"feedback": "mul must handle floats"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "regenerating"
    task = task_row(runtime, plan)
    assert task.status == "ready" and task.retry_count == 0
    with runtime.reading() as session:
        assert session.scalars(select(AcceptanceTest.status)).all() == ["pending"]
        from masterplan.review.service import regeneration_feedbacks

        assert regeneration_feedbacks(session, [task.id]) == {
            task.id: ["A human reviewer asked for changes: mul must handle floats"]
        }

    complete_task(runtime, plan, 1, files={"calc/ops.py": FIXED_OPS})  # the engine re-ran it: clean this time
    score = score_task(runtime, plan.task_ids[1])
    assert score is not None and score.score == pytest.approx(0.8)
    review = review_row(runtime, review_id)
    assert review.status == "approved" and review.confidence == pytest.approx(0.8)
    assert git_log(plan.workspace)[0] == "task 1: Operations"
    assert [u["action"] for u in updates(runtime, plan)] == ["regenerate", "regenerated"]
    assert audit(runtime, review_id) == ["review_created", "review_regenerate", "review_regenerated"]


def test_a_regeneration_still_low_or_failed_goes_back_to_the_queue(
    runtime: Runtime, client: TestClient, reviewed: tuple[RunningPlan, uuid.UUID]
) -> None:
    plan, review_id = reviewed
    pause(runtime, plan)
    assert (
        client.post(f"/api/v1/reviews/{review_id}/regenerate", json={"feedback": "try again"}).status_code
        == 200
    )
    complete_task(runtime, plan, 1, files={"calc/ops.py": FIXED_OPS}, attempts=[(0, 2), (0, 2), (1, 2)])
    score_task(runtime, plan.task_ids[1])
    review = review_row(runtime, review_id)
    assert review.status == "pending" and review.suggestions and review.priority == "high"

    assert (
        client.post(f"/api/v1/reviews/{review_id}/regenerate", json={"feedback": "once more"}).status_code
        == 200
    )
    with runtime.transaction() as session:  # the engine picks it up and the model fails every attempt
        from masterplan.execution import state
        from masterplan.plans.transitions import move_task

        row = session.get(Masterplan, plan.id)
        task = session.get(Task, plan.task_ids[1])
        assert row is not None and task is not None
        move_task(task, "in_progress")
        state.set_task_status(session, row, task, "failed", "no answer")
        task.last_error = "the model never answered"
    score_task(runtime, plan.task_ids[1])
    review = review_row(runtime, review_id)
    assert review.status == "pending"
    assert review.suggestions[0] == "the regenerated task failed: the model never answered"


def test_a_rejected_review_can_be_regenerated(
    runtime: Runtime, client: TestClient, reviewed: tuple[RunningPlan, uuid.UUID]
) -> None:
    plan, review_id = reviewed
    pause(runtime, plan)
    client.post(f"/api/v1/reviews/{review_id}/reject", json={"feedback": "wrong"})
    fail_task(runtime, plan, 2)
    with runtime.transaction() as session:  # the engine blocks task 3 (it depends on failed task 2)
        from masterplan.execution import state

        row, task = session.get(Masterplan, plan.id), session.get(Task, plan.task_ids[3])
        assert row is not None and task is not None
        state.set_task_status(session, row, task, "blocked")
    response = client.post(f"/api/v1/reviews/{review_id}/regenerate", json={"feedback": "do it right"})
    assert response.status_code == 200, response.text
    assert task_row(runtime, plan).status == "ready"
    # unblocked as by a retry; the scheduler blocks it again while task 2 stays failed
    assert task_row(runtime, plan, 3).status == "pending"
    refused = client.post(f"/api/v1/reviews/{review_id}/approve")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "review_regenerating"


def test_regenerate_through_the_api_runs_the_task_again(
    runtime: Runtime, client: TestClient, reviewed: tuple[RunningPlan, uuid.UUID]
) -> None:
    """The server's engine (DBOS in the app) re-runs the task with the sim coder and settles the review."""
    from tests.execution.helpers import wait_plan, wait_until

    plan, review_id = reviewed
    complete_task(runtime, plan, 2)
    complete_task(runtime, plan, 3)
    with runtime.transaction() as session:
        row = session.get(Masterplan, plan.id)
        assert row is not None
        change_plan_status(session, row, "completed", actor=None, action="execution_completed")
    commits = len(git_log(plan.workspace))
    response = client.post(f"/api/v1/reviews/{review_id}/regenerate", json={"feedback": "keep mul exact"})
    assert response.status_code == 200, response.text
    wait_until(lambda: review_row(runtime, review_id).status != "regenerating", what="the regeneration")
    wait_plan(runtime, str(plan.id), {"completed"})
    task = task_row(runtime, plan)
    assert task.status == "completed" and task.retry_count == 0
    assert "A human reviewer asked for changes: keep mul exact" in (task.llm_prompt or "")
    assert len(git_log(plan.workspace)) == commits + 1  # the sim coder wrote new content: one commit
    assert review_row(runtime, review_id).status in ("approved", "pending")
