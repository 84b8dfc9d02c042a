"""`masterplan reviews list|show|approve|reject|regenerate` against a real database and workspace."""

from __future__ import annotations

import uuid
from pathlib import Path

from typer.testing import CliRunner

from masterplan.cli import app
from masterplan.models import Masterplan, Review, Task, User
from masterplan.plans.service import change_plan_status
from masterplan.review.scoring import score_task
from masterplan.runtime import Runtime
from tests.fixtures.running_plan import RunningPlan, calc_document, complete_task, running_plan

runner = CliRunner()


def env(runtime: Runtime) -> dict[str, str]:
    return {
        "MASTERPLAN_DATA_DIR": str(runtime.settings.data_dir),
        "MASTERPLAN_DATABASE_URL": runtime.settings.resolved_database_url,
        "MASTERPLAN_MODEL": "sim",
        "COLUMNS": "220",
    }


def shaky_review(runtime: Runtime, user: User, number: int = 1) -> tuple[RunningPlan, uuid.UUID]:
    plan = running_plan(runtime, user, calc_document(("critical", "critical", "critical")))
    for n in range(1, number + 1):
        complete_task(runtime, plan, n, attempts=[(0, 2), (0, 2), (1, 2)])
    score = score_task(runtime, plan.task_ids[number])
    assert score is not None and score.review_id is not None
    return plan, score.review_id


def invoke(runtime: Runtime, *args: str) -> str:
    result = runner.invoke(app, ["reviews", *args], env=env(runtime))
    assert result.exit_code == 0, result.output
    return result.output


def test_list_show_approve(runtime: Runtime, local_user: User) -> None:
    _plan, review_id = shaky_review(runtime, local_user)
    listed = invoke(runtime, "list")
    assert str(review_id) in listed and "#1 Operations" in listed and "high" in listed
    shown = invoke(runtime, "show", str(review_id))
    assert "confidence" in shown and "+def add(a, b):" in shown and "(sim)" in shown
    assert "approved" in invoke(runtime, "approve", str(review_id))
    assert str(review_id) not in invoke(runtime, "list")  # only pending ones by default
    assert str(review_id) in invoke(runtime, "list", "--all")
    again = runner.invoke(app, ["reviews", "approve", str(review_id)], env=env(runtime))
    assert again.exit_code == 1 and "invalid_status_transition" in again.output


def test_reject_and_regenerate_while_paused(runtime: Runtime, local_user: User) -> None:
    plan, review_id = shaky_review(runtime, local_user)
    out = invoke(runtime, "reject", str(review_id), "--feedback", "mul is wrong")
    assert "rejected" in out and "failed" in out
    with runtime.transaction() as session:
        row = session.get(Masterplan, plan.id)
        assert row is not None
        change_plan_status(session, row, "paused", actor=None, action="pause")
    out = invoke(runtime, "regenerate", str(review_id), "-f", "handle floats")
    assert "queued for regeneration" in out
    with runtime.reading() as session:
        review, task = session.get(Review, review_id), session.get(Task, plan.task_ids[1])
        assert review is not None and task is not None
        assert review.status == "regenerating" and review.reviewer_feedback == "handle floats"
        assert task.status == "ready"


def test_unknown_and_malformed_ids(runtime: Runtime) -> None:
    missing = runner.invoke(app, ["reviews", "show", str(uuid.uuid4())], env=env(runtime))
    assert missing.exit_code == 1 and "review_not_found" in missing.output
    bad = runner.invoke(app, ["reviews", "show", "nope"], env=env(runtime))
    assert bad.exit_code == 2 and "not a review id" in bad.output


def test_regenerate_runs_a_finished_plan_here(runtime: Runtime, local_user: User, tmp_path: Path) -> None:
    """With no server running, a completed plan's regeneration runs in the CLI process (DBOS)."""
    plan, review_id = shaky_review(runtime, local_user, number=3)
    with runtime.transaction() as session:
        row = session.get(Masterplan, plan.id)
        assert row is not None
        change_plan_status(session, row, "completed", actor=None, action="execution_completed")
    out = invoke(runtime, "regenerate", str(review_id), "-f", "make it solid")
    assert "running the plan here" in out
    with runtime.reading() as session:
        review, task, row = (
            session.get(Review, review_id),
            session.get(Task, plan.task_ids[3]),
            session.get(Masterplan, plan.id),
        )
        assert review is not None and task is not None and row is not None
        assert task.status == "completed" and row.status == "completed"
        assert review.status in ("approved", "pending") and review.status != "regenerating"
