"""Gate S after a wave, with real workspaces and real pytest subprocesses: pass, fail and pause, override."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from masterplan.acceptance.confinement import Limits
from masterplan.acceptance.gate import run_wave_acceptance
from masterplan.models import (
    AcceptanceTest,
    AcceptanceTestRun,
    ExecutionEvent,
    HistoryEntry,
    Masterplan,
    User,
)
from masterplan.plans.service import change_plan_status
from masterplan.runtime import Runtime
from tests.fixtures.running_plan import RunningPlan, complete_task, running_plan

LIMITS = Limits(timeout_seconds=20, cpu_seconds=20)

OPS_TEST = (
    "from calc.ops import add, mul\n\ndef test_ops():\n    assert add(2, 3) == 5\n    assert mul(2, 3) == 6\n"
)
API_TEST = "from calc.api import total\n\ndef test_total():\n    assert total([1, 2, 3]) == 6\n"
WRONG_TEST = (
    "from calc.ops import add\n\ndef test_wrong():\n    assert add(2, 2) == 5, 'add(2, 2) should be 5'\n"
)


def add_test(runtime: Runtime, plan: RunningPlan, name: str, covers: list[int], **fields: Any) -> uuid.UUID:
    with runtime.transaction() as session:
        test = AcceptanceTest(
            id=uuid.uuid4(),
            masterplan_id=plan.id,
            name=name,
            covers_tasks=covers,
            **({"kind": "pytest"} | fields),
        )
        session.add(test)
        return test.id


def plan_row(runtime: Runtime, plan: RunningPlan) -> Masterplan:
    with runtime.reading() as session:
        row = session.get(Masterplan, plan.id)
        assert row is not None
        session.expunge(row)
        return row


def event_types(runtime: Runtime, plan: RunningPlan) -> list[tuple[str, dict[str, Any]]]:
    with runtime.reading() as session:
        rows = session.scalars(
            select(ExecutionEvent)
            .where(ExecutionEvent.stream == f"masterplan:{plan.id}")
            .order_by(ExecutionEvent.seq)
        ).all()
        return [(r.type, r.payload) for r in rows]


def test_a_wave_whose_tests_pass_lets_the_plan_go_on(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user)
    ops = add_test(runtime, plan, "operations work", [1], pytest_code=OPS_TEST)
    api = add_test(runtime, plan, "total works", [2], pytest_code=API_TEST, priority="should")
    complete_task(runtime, plan, 1)

    verdict = run_wave_acceptance(runtime, plan.id, 1, limits=LIMITS)

    assert verdict.gate_passed and not verdict.paused
    assert [o.test_id for o in verdict.ran] == [ops]  # the API test waits for task 2
    assert plan_row(runtime, plan).status == "in_progress"
    events = event_types(runtime, plan)
    kinds = [t for t, _ in events]
    assert kinds[-3:] == ["acceptance_test_start", "acceptance_test_result", "gate_validation_result"]
    assert events[-1][1]["gate_passed"] is True and events[-1][1]["must_rate"] == 1.0
    assert events[-2][1]["passed"] is True and events[-2][1]["test_id"] == str(ops)

    complete_task(runtime, plan, 2)
    second = run_wave_acceptance(runtime, plan.id, 2, limits=LIMITS)
    assert [o.test_id for o in second.ran] == [api]  # passed tests do not run again
    assert second.gate.should_rate == 1.0 and second.gate_passed
    with runtime.reading() as session:
        runs = session.scalars(
            select(AcceptanceTestRun).where(AcceptanceTestRun.masterplan_id == plan.id)
        ).all()
        assert sorted((r.wave, r.passed) for r in runs) == [(1, True), (2, True)]
        assert all("1 passed" in r.output for r in runs)


def test_a_failing_must_test_pauses_the_plan_naming_it(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user)
    add_test(runtime, plan, "operations work", [1], pytest_code=OPS_TEST)
    add_test(runtime, plan, "two plus two is five", [1], pytest_code=WRONG_TEST)
    complete_task(runtime, plan, 1)

    verdict = run_wave_acceptance(runtime, plan.id, 1, limits=LIMITS)

    assert not verdict.gate_passed and verdict.paused
    assert verdict.gate.must_rate == 0.5
    assert [f.name for f in verdict.gate.failing] == ["two plus two is five"]
    row = plan_row(runtime, plan)
    assert row.status == "paused"
    assert row.status_reason is not None and row.status_reason.startswith("gate_failed")
    assert "'two plus two is five' (must)" in row.status_reason
    events = event_types(runtime, plan)
    gate = [p for t, p in events if t == "gate_validation_result"][-1]
    assert gate["gate_passed"] is False and gate["must_rate"] == 0.5
    status = [p for t, p in events if t == "masterplan_status_changed"][-1]
    assert status["status"] == "paused" and "two plus two is five" in status["reason"]
    with runtime.reading() as session:
        run = session.scalars(select(AcceptanceTestRun).where(AcceptanceTestRun.passed.is_(False))).one()
        assert "should be 5" in run.output


def test_override_then_resume_continues(runtime: Runtime, local_user: User, client: TestClient) -> None:
    plan = running_plan(runtime, local_user)
    add_test(runtime, plan, "two plus two is five", [1], pytest_code=WRONG_TEST)
    complete_task(runtime, plan, 1)
    assert run_wave_acceptance(runtime, plan.id, 1, limits=LIMITS).paused

    gate = client.get(f"/api/v1/masterplans/{plan.id}/gate").json()
    assert gate["gate_passed"] is False and gate["failing"][0]["name"] == "two plus two is five"
    refused = client.post(f"/api/v1/masterplans/{plan.id}/gate/override", json={"reason": ""})
    assert refused.status_code == 422
    response = client.post(
        f"/api/v1/masterplans/{plan.id}/gate/override", json={"reason": "known upstream bug"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["gate_passed"] is True and response.json()["waived"] == 1
    again = client.post(f"/api/v1/masterplans/{plan.id}/gate/override", json={"reason": "again"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "gate_not_failing"

    with runtime.reading() as session:
        entry = session.scalars(select(HistoryEntry).where(HistoryEntry.action == "gate_override")).one()
        assert entry.reason == "known upstream bug" and entry.actor == local_user.email
        assert entry.after == {"waived_tests": ["two plus two is five"]}
    assert plan_row(runtime, plan).status_reason == "gate_overridden: known upstream bug"
    assert "gate_overridden" in [t for t, _ in event_types(runtime, plan)]

    with runtime.transaction() as session:  # resume, as the execution endpoint does
        row = session.get(Masterplan, plan.id)
        assert row is not None
        change_plan_status(session, row, "in_progress", actor=None, action="resume")
    complete_task(runtime, plan, 2)
    verdict = run_wave_acceptance(runtime, plan.id, 2, limits=LIMITS)
    assert verdict.gate_passed and not verdict.paused and verdict.ran == []
    assert plan_row(runtime, plan).status == "in_progress"


def test_should_tests_pass_at_95_percent(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user)
    add_test(runtime, plan, "ops", [1], pytest_code=OPS_TEST, priority="should")
    add_test(runtime, plan, "wrong", [1], pytest_code=WRONG_TEST, priority="should")
    complete_task(runtime, plan, 1)
    verdict = run_wave_acceptance(runtime, plan.id, 1, limits=LIMITS)
    assert verdict.gate.must_rate == 1.0 and verdict.gate.should_rate == 0.5
    assert not verdict.gate_passed and verdict.paused


def test_thresholds_are_settings(tmp_path: Any, db_url: str, local_user: User) -> None:
    from masterplan.runtime import build_runtime
    from tests.conftest import make_settings

    lenient = build_runtime(make_settings(tmp_path / "lenient", db_url, gate_should_pass_rate=0.5))
    try:
        plan = running_plan(lenient, local_user)
        add_test(lenient, plan, "ops", [1], pytest_code=OPS_TEST, priority="should")
        add_test(lenient, plan, "wrong", [1], pytest_code=WRONG_TEST, priority="should")
        complete_task(lenient, plan, 1)
        verdict = run_wave_acceptance(lenient, plan.id, 1, limits=LIMITS)
        assert verdict.gate_passed and verdict.gate.should_threshold == 0.5
    finally:
        lenient.close()


def test_commands_compare_their_exit_code(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user)
    add_test(runtime, plan, "file exists", [1], kind="command", command="test -f calc/ops.py")
    add_test(
        runtime,
        plan,
        "missing file fails",
        [1],
        kind="command",
        command="test -f nope.py",
        expected_exit_code=1,
    )
    add_test(runtime, plan, "whole plan", [], kind="command", command="python -m calc.cli 1 2 3 | grep -qx 6")
    complete_task(runtime, plan, 1)
    first = run_wave_acceptance(runtime, plan.id, 1, limits=LIMITS)
    assert sorted(o.name for o in first.ran if o.passed) == ["file exists", "missing file fails"]
    assert "whole plan" not in [o.name for o in first.ran]  # covers every task: waits for all of them
    complete_task(runtime, plan, 2)
    complete_task(runtime, plan, 3)
    last = run_wave_acceptance(runtime, plan.id, 3, limits=LIMITS)
    assert [(o.name, o.passed) for o in last.ran] == [("whole plan", True)]


@pytest.mark.parametrize("status", ["paused", "completed"])
def test_nothing_runs_while_the_plan_is_not_running(runtime: Runtime, local_user: User, status: str) -> None:
    plan = running_plan(runtime, local_user)
    add_test(runtime, plan, "wrong", [1], pytest_code=WRONG_TEST)
    complete_task(runtime, plan, 1)
    set_status(runtime, plan, status)
    before = len(event_types(runtime, plan))
    verdict = run_wave_acceptance(runtime, plan.id, 1, limits=LIMITS)
    assert verdict.ran == [] and not verdict.paused
    assert plan_row(runtime, plan).status == status
    assert len(event_types(runtime, plan)) == before


def set_status(runtime: Runtime, plan: RunningPlan, status: str) -> None:
    with runtime.transaction() as session:
        row = session.get(Masterplan, plan.id)
        assert row is not None
        change_plan_status(session, row, status, actor=None, action="test")


def test_resuming_without_a_fix_pauses_again_before_the_next_wave(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user)
    add_test(runtime, plan, "two plus two is five", [1], pytest_code=WRONG_TEST)
    complete_task(runtime, plan, 1)
    assert run_wave_acceptance(runtime, plan.id, 1, limits=LIMITS).paused
    set_status(runtime, plan, "in_progress")
    before_next_wave = run_wave_acceptance(runtime, plan.id, None, limits=LIMITS)
    assert [o.name for o in before_next_wave.ran] == ["two plus two is five"]
    assert before_next_wave.paused and plan_row(runtime, plan).status == "paused"


def test_a_fixed_test_passes_when_the_plan_resumes(
    runtime: Runtime, local_user: User, client: TestClient
) -> None:
    plan = running_plan(runtime, local_user)
    test_id = add_test(runtime, plan, "two plus two", [1], pytest_code=WRONG_TEST)
    complete_task(runtime, plan, 1)
    assert run_wave_acceptance(runtime, plan.id, 1, limits=LIMITS).paused
    listed = client.get(f"/api/v1/masterplans/{plan.id}/acceptance-tests").json()
    fixed = [{**t, "pytest_code": WRONG_TEST.replace("== 5", "== 4")} for t in listed["items"]]
    assert (
        client.put(f"/api/v1/masterplans/{plan.id}/acceptance-tests", json={"tests": fixed}).status_code
        == 200
    )
    set_status(runtime, plan, "in_progress")
    verdict = run_wave_acceptance(runtime, plan.id, None, limits=LIMITS)
    assert [(o.test_id, o.passed) for o in verdict.ran] == [(test_id, True)]
    assert verdict.gate_passed and plan_row(runtime, plan).status == "in_progress"


def test_a_result_whose_task_went_back_to_work_does_not_count(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user)
    add_test(runtime, plan, "two plus two is five", [1], pytest_code=WRONG_TEST)
    complete_task(runtime, plan, 1)
    assert run_wave_acceptance(runtime, plan.id, 1, limits=LIMITS).paused
    with runtime.transaction() as session:  # the user retries (here: regenerates) task 1
        from masterplan.models import Task
        from masterplan.plans.transitions import move_task

        task = session.get(Task, plan.task_ids[1])
        assert task is not None
        move_task(task, "ready")
    set_status(runtime, plan, "in_progress")
    verdict = run_wave_acceptance(runtime, plan.id, None, limits=LIMITS)
    assert verdict.ran == [] and verdict.gate_passed and not verdict.paused
