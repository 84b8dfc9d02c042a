"""After each wave: run the acceptance tests that became runnable, then decide Gate S.

    run_wave_acceptance(runtime, masterplan_id, wave=None, *, limits=None) -> GateVerdict   (blocking)

Runs, in the sandbox, every test not yet passed (nor waived) whose covered tasks are all completed (a test
covering no task needs every task of the plan completed); stores a run per test and records
`acceptance_test_start` / `acceptance_test_result`; then records `gate_validation_result` and, when the
gate fails on a running plan, pauses it with reason `gate_failed: ...` naming the failing tests. Each test
gets its own short transactions, so events stream while the rest run. Safe to repeat: a repeated call
runs the not-yet-passed tests again and records new runs.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.acceptance import service
from masterplan.acceptance.confinement import Limits
from masterplan.acceptance.runner import TestJob, outcome_message, run_test
from masterplan.acceptance.sandbox import limits_from_settings
from masterplan.acceptance.schemas import GateVerdict, RunOutcome
from masterplan.errors import NotFound
from masterplan.events import plan_stream, record_event
from masterplan.models import AcceptanceTest, AcceptanceTestRun, Masterplan, Task
from masterplan.plans.service import change_plan_status
from masterplan.runtime import Runtime
from masterplan.workspace import workspace_root

WAITING = ("pending", "running", "failed")


def due_tests(session: Session, plan_id: uuid.UUID) -> list[AcceptanceTest]:
    """Tests to run now: not passed or waived, and every covered task completed."""
    status_of = dict(
        session.execute(select(Task.task_number, Task.status).where(Task.masterplan_id == plan_id))
        .tuples()
        .all()
    )
    completed = {n for n, s in status_of.items() if s == "completed"}
    due: list[AcceptanceTest] = []
    for test in service.list_tests(session, plan_id):
        if test.status not in WAITING:
            continue
        covered = set(test.covers_tasks) or set(status_of)
        if covered <= completed:
            due.append(test)
    return due


def _load_plan(session: Session, plan_id: uuid.UUID, *, for_update: bool = False) -> Masterplan:
    plan = session.get(Masterplan, plan_id, with_for_update=for_update)
    if plan is None:
        raise NotFound(f"masterplan {plan_id} not found", code="masterplan_not_found")
    return plan


def _start(runtime: Runtime, plan_id: uuid.UUID, job: TestJob, wave: int | None) -> bool:
    with runtime.transaction() as session:
        test = session.get(AcceptanceTest, job.id)
        if test is None:  # deleted by an edit meanwhile
            return False
        test.status = "running"
        plan = _load_plan(session, plan_id)
        record_event(
            session,
            plan_stream(plan_id),
            "acceptance_test_start",
            {"test_id": str(job.id), "name": job.name, "wave_number": wave},
            trace_id=plan.trace_id,
            masterplan_id=plan_id,
        )
    return True


def _finish(
    runtime: Runtime, plan_id: uuid.UUID, job: TestJob, wave: int | None, root: Path, limits: Limits
) -> RunOutcome:
    passed, result = run_test(job, root, limits)
    with runtime.transaction() as session:
        test = session.get(AcceptanceTest, job.id)
        plan = _load_plan(session, plan_id)
        if test is not None:
            session.add(
                AcceptanceTestRun(
                    test_id=job.id,
                    masterplan_id=plan_id,
                    wave=wave,
                    passed=passed,
                    exit_code=result.exit_code,
                    output=result.output,
                    duration_seconds=round(result.duration_seconds, 3),
                )
            )
            test.status = "passed" if passed else "failed"
            test.last_run_at = datetime.now(UTC)
        record_event(
            session,
            plan_stream(plan_id),
            "acceptance_test_result",
            {
                "test_id": str(job.id),
                "passed": passed,
                "priority": job.priority,
                "message": f"{job.name}: {outcome_message(passed, result, job)}",
            },
            trace_id=plan.trace_id,
            masterplan_id=plan_id,
        )
    return RunOutcome(
        test_id=job.id,
        name=job.name,
        priority=job.priority,
        passed=passed,
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        duration_seconds=round(result.duration_seconds, 3),
    )


def run_wave_acceptance(
    runtime: Runtime, masterplan_id: uuid.UUID, wave: int | None = None, *, limits: Limits | None = None
) -> GateVerdict:
    """Run the tests that became runnable and decide Gate S; a failed gate pauses a running plan."""
    limits = limits or limits_from_settings(runtime.settings)
    with runtime.transaction() as session:
        plan = _load_plan(session, masterplan_id)
        root = workspace_root(plan.workspace_path)
        jobs = [TestJob.of(t) for t in due_tests(session, masterplan_id)]
    outcomes = [
        _finish(runtime, masterplan_id, job, wave, root, limits)
        for job in jobs
        if _start(runtime, masterplan_id, job, wave)
    ]
    with runtime.transaction() as session:
        plan = _load_plan(session, masterplan_id, for_update=True)
        status = service.gate_status(session, masterplan_id, runtime.settings)
        service.record_gate_result(session, plan, status, wave)
        paused = not status.gate_passed and plan.status == "in_progress"
        if paused:
            change_plan_status(
                session,
                plan,
                "paused",
                actor=None,
                action=service.GATE_FAILED,
                reason=service.gate_failed_reason(status),
                extra_after={"failing_tests": [f.name for f in status.failing], "wave": wave},
            )
    return GateVerdict(wave=wave, ran=outcomes, gate=status, paused=paused)
