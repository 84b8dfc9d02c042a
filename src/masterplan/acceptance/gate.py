"""Gate S: run the acceptance tests that became runnable, then decide whether the next wave may start.

    run_wave_acceptance(runtime, masterplan_id, wave=None, *, limits=None) -> GateVerdict   (blocking)
    acceptance_gate(runtime, masterplan_id, wave=None) -> bool   (the engine's call; False: paused)

Only while the plan is in_progress: runs, in the sandbox, every test not yet passed (nor waived) whose
covered tasks are all completed (a test covering no task needs the whole plan), one after the other; stores
a run per test and records `acceptance_test_start` / `acceptance_test_result`; scores the covered tasks
again (their integration part changed); records `gate_validation_result` and, when the gate fails, pauses
the plan with reason `gate_failed: ...` naming the failing tests. Each test has its own short
transactions, so events stream while the rest run. Safe to repeat: a repeated call runs the tests not yet
passed again. Called before a wave too, so a plan resumed after a failed gate re-runs the failing tests
first (and pauses again at once while they still fail).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from masterplan.acceptance import service
from masterplan.acceptance.confinement import Limits
from masterplan.acceptance.runner import TestJob, outcome_message, run_test
from masterplan.acceptance.sandbox import limits_from_settings
from masterplan.acceptance.schemas import GateVerdict, RunOutcome
from masterplan.errors import Conflict, NotFound
from masterplan.events import plan_stream, record_event
from masterplan.models import AcceptanceTest, AcceptanceTestRun, Masterplan, Task
from masterplan.plans.service import change_plan_status
from masterplan.review.scoring import rescore_tasks
from masterplan.runtime import Runtime
from masterplan.workspace import workspace_root

log = structlog.get_logger(__name__)
WAITING = ("pending", "running", "failed")


def due_tests(session: Session, plan_id: uuid.UUID) -> list[AcceptanceTest]:
    """Tests to run now: not passed or waived, and every covered task completed."""
    every, done = service.completed_tasks(session, plan_id)
    return [
        t
        for t in service.list_tests(session, plan_id)
        if t.status in WAITING and service.covered(t, every) <= done
    ]


def last_wave(session: Session, plan_id: uuid.UUID) -> int | None:
    """The highest wave holding a completed task: the label of runs the engine did not number."""
    return session.scalar(
        select(func.max(Task.wave)).where(Task.masterplan_id == plan_id, Task.status == "completed")
    )


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
    """Run the tests that became runnable and decide Gate S; a failed gate pauses the plan.

    Does nothing unless the plan is in_progress. With `wave` (a wave just ended) the gate result is
    always recorded; without it (e.g. before the next wave starts) only when tests ran or it fails.
    """
    limits = limits or limits_from_settings(runtime.settings)
    with runtime.reading() as session:
        plan = _load_plan(session, masterplan_id)
        if plan.status != "in_progress":
            status = service.gate_status(session, masterplan_id, runtime.settings)
            return GateVerdict(wave=wave, ran=[], gate=status, paused=False)
        root = workspace_root(plan.workspace_path)
        due = due_tests(session, masterplan_id)
        jobs = [TestJob.of(t) for t in due]
        covered = sorted({n for t in due for n in t.covers_tasks})
        label = wave if wave is not None else last_wave(session, masterplan_id)
    outcomes = [
        _finish(runtime, masterplan_id, job, label, root, limits)
        for job in jobs
        if _start(runtime, masterplan_id, job, label)
    ]
    if outcomes and covered:
        # Their integration part changed; a task may now need a review.
        rescore_tasks(runtime, masterplan_id, covered)
    with runtime.transaction() as session:
        plan = _load_plan(session, masterplan_id, for_update=True)
        status = service.gate_status(session, masterplan_id, runtime.settings)
        if wave is not None or outcomes or not status.gate_passed:
            service.record_gate_result(session, plan, status, label)
        paused = not status.gate_passed and plan.status == "in_progress"
        if paused:
            change_plan_status(
                session,
                plan,
                "paused",
                actor=None,
                action=service.GATE_FAILED,
                reason=service.gate_failed_reason(status),
                extra_after={"failing_tests": [f.name for f in status.failing], "wave": label},
            )
    return GateVerdict(wave=label, ran=outcomes, gate=status, paused=paused)


def acceptance_gate(runtime: Runtime, masterplan_id: uuid.UUID, wave: int | None = None) -> bool:
    """The engine's call before each wave (wave=None) and after each wave: False when the gate
    failed and the plan is paused. A plan without a workspace has nothing to test (True)."""
    try:
        verdict = run_wave_acceptance(runtime, masterplan_id, wave)
    except Conflict as exc:  # no workspace (yet): nothing to test
        log.warning("acceptance_gate_skipped", masterplan_id=str(masterplan_id), reason=exc.message)
        return True
    return verdict.gate_passed or not verdict.paused
