"""Storing a plan's acceptance tests, Gate S over their results, and the audited gate override.
Services never commit; the edge does."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.acceptance.rules import spec_problems
from masterplan.acceptance.schemas import AcceptanceTestIn, FailingTest, GateStatus
from masterplan.config import Settings
from masterplan.errors import Conflict, PlanValidationError
from masterplan.events import plan_stream, record_event
from masterplan.events.schemas import AcceptanceTestsUpdated, GateOverridden
from masterplan.llm.roles import AcceptanceTestSpec
from masterplan.models import AcceptanceTest, AcceptanceTestRun, HistoryEntry, Masterplan, Task, User
from masterplan.plans import repository
from masterplan.plans.audit import record_history

GATE_FAILED = "gate_failed"
DERIVED_ACTION = "acceptance_tests_derived"
GATE_OVERRIDDEN = "gate_overridden"
CLOSED_PLAN_STATUSES = frozenset({"rejected", "cancelled"})
RUN_STATUSES = ("passed", "failed")
DEFINITION_FIELDS = (
    "name",
    "description",
    "priority",
    "covers_tasks",
    "kind",
    "pytest_code",
    "command",
    "expected_exit_code",
)


class AcceptanceTestsInvalid(PlanValidationError):
    code = "acceptance_tests_invalid"


def list_tests(session: Session, plan_id: uuid.UUID) -> list[AcceptanceTest]:
    return list(
        session.scalars(
            select(AcceptanceTest)
            .where(AcceptanceTest.masterplan_id == plan_id)
            .order_by(AcceptanceTest.created_at, AcceptanceTest.name)
        ).all()
    )


def last_runs(session: Session, plan_id: uuid.UUID) -> dict[uuid.UUID, AcceptanceTestRun]:
    """The newest run of each test of the plan."""
    newest: dict[uuid.UUID, AcceptanceTestRun] = {}
    for run in session.scalars(
        select(AcceptanceTestRun)
        .where(AcceptanceTestRun.masterplan_id == plan_id)
        .order_by(AcceptanceTestRun.created_at.desc())
    ):
        newest.setdefault(run.test_id, run)
    return newest


def runs_of(session: Session, test_id: uuid.UUID, limit: int = 50) -> Sequence[AcceptanceTestRun]:
    return session.scalars(
        select(AcceptanceTestRun)
        .where(AcceptanceTestRun.test_id == test_id)
        .order_by(AcceptanceTestRun.created_at.desc())
        .limit(limit)
    ).all()


def task_numbers(session: Session, plan_id: uuid.UUID) -> list[int]:
    return list(session.scalars(select(Task.task_number).where(Task.masterplan_id == plan_id)).all())


def _new_test(plan_id: uuid.UUID, spec: AcceptanceTestSpec) -> AcceptanceTest:
    test = AcceptanceTest(id=uuid.uuid4(), masterplan_id=plan_id, status="pending")
    _apply(test, spec)
    return test


def _apply(test: AcceptanceTest, spec: AcceptanceTestSpec) -> bool:
    """Copy the definition; True when anything changed (the test must then run again)."""
    changed = False
    values = spec.model_dump(include=set(DEFINITION_FIELDS))
    values["covers_tasks"] = sorted(set(values["covers_tasks"]))
    values["pytest_code"] = values["pytest_code"] if spec.kind == "pytest" else None
    values["command"] = values["command"] if spec.kind == "command" else None
    for name, value in values.items():
        if getattr(test, name) != value:
            setattr(test, name, value)
            changed = True
    return changed


def replace_tests(
    session: Session,
    user: User,
    plan_id: uuid.UUID,
    specs: Sequence[AcceptanceTestIn],
    client_address: str | None = None,
) -> list[AcceptanceTest]:
    """Make the listed tests the plan's whole set; a changed test goes back to pending. Audited."""
    plan = repository.get_plan(session, user, plan_id, for_update=True)
    if plan.status in CLOSED_PLAN_STATUSES:
        raise Conflict(
            f"the acceptance tests of a {plan.status} plan cannot change",
            code="invalid_status",
            details={"current_status": plan.status},
        )
    existing = {t.id: t for t in list_tests(session, plan.id)}
    problems = spec_problems(specs, task_numbers(session, plan.id))
    problems += [
        f"test {s.name!r}: id {s.id} is not a test of this plan"
        for s in specs
        if s.id and s.id not in existing
    ]
    if problems:
        raise AcceptanceTestsInvalid(problems)
    created = changed = 0
    kept: set[uuid.UUID] = set()
    for spec in specs:
        if spec.id is not None:
            test = existing[spec.id]
            kept.add(test.id)
            if _apply(test, spec):
                test.status = "pending"
                changed += 1
        else:
            session.add(_new_test(plan.id, spec))
            created += 1
    deleted = [t for tid, t in existing.items() if tid not in kept]
    for test in deleted:
        session.delete(test)
    record_history(
        session,
        actor=user,
        action="acceptance_tests_replaced",
        masterplan_id=plan.id,
        before={"count": len(existing)},
        after={"count": len(specs), "created": created, "changed": changed, "deleted": len(deleted)},
        client_address=client_address,
        trace_id=plan.trace_id,
    )
    record_event(
        session,
        plan_stream(plan.id),
        "acceptance_tests_updated",
        AcceptanceTestsUpdated(count=len(specs), source="edited"),
        trace_id=plan.trace_id,
        masterplan_id=plan.id,
    )
    session.flush()
    return list_tests(session, plan.id)


def derived_before(session: Session, plan_id: uuid.UUID) -> bool:
    """Whether the deriving agent already stored tests for this plan (even none)."""
    return (
        session.scalar(
            select(HistoryEntry.id)
            .where(HistoryEntry.masterplan_id == plan_id, HistoryEntry.action == DERIVED_ACTION)
            .limit(1)
        )
        is not None
    )


def store_derived_tests(
    session: Session, plan: Masterplan, specs: Sequence[AcceptanceTestSpec], *, model: str, replace: bool
) -> list[AcceptanceTest]:
    """Store what the deriving agent produced (replacing earlier tests when asked)."""
    if replace:
        for test in list_tests(session, plan.id):
            session.delete(test)
        session.flush()
    for spec in specs:
        session.add(_new_test(plan.id, spec))
    record_history(
        session,
        actor=None,
        action=DERIVED_ACTION,
        masterplan_id=plan.id,
        after={"count": len(specs), "model": model, "replace": replace},
        trace_id=plan.trace_id,
    )
    record_event(
        session,
        plan_stream(plan.id),
        "acceptance_tests_updated",
        AcceptanceTestsUpdated(count=len(specs), source="derived"),
        trace_id=plan.trace_id,
        masterplan_id=plan.id,
    )
    session.flush()
    return list_tests(session, plan.id)


def _rate(passed: int, run: int) -> float:
    return 1.0 if run == 0 else passed / run


def completed_tasks(session: Session, plan_id: uuid.UUID) -> tuple[set[int], set[int]]:
    """(every task number, the completed ones) of a plan."""
    rows = session.execute(select(Task.task_number, Task.status).where(Task.masterplan_id == plan_id)).all()
    return {n for n, _ in rows}, {n for n, s in rows if s == "completed"}


def covered(test: AcceptanceTest, every: set[int]) -> set[int]:
    """The tasks a test needs: those it names, or the whole plan when it names none."""
    return set(test.covers_tasks) or every


def gate_status(session: Session, plan_id: uuid.UUID, settings: Settings) -> GateStatus:
    """Gate S among the tests run so far. Waived and not-yet-run tests do not count, nor a result whose
    tasks have been sent back to work (a retried or regenerated task): the test runs again after it."""
    every, done = completed_tasks(session, plan_id)
    tests = list_tests(session, plan_id)
    ran = [t for t in tests if t.status in RUN_STATUSES and covered(t, every) <= done]
    must = [t for t in ran if t.priority == "must"]
    should = [t for t in ran if t.priority != "must"]
    must_passed = sum(t.status == "passed" for t in must)
    should_passed = sum(t.status == "passed" for t in should)
    must_rate, should_rate = _rate(must_passed, len(must)), _rate(should_passed, len(should))
    # A tiny tolerance so 19/20 is not refused against 0.95 by floating point.
    passed = (
        must_rate + 1e-9 >= settings.gate_must_pass_rate
        and should_rate + 1e-9 >= settings.gate_should_pass_rate
    )
    return GateStatus(
        gate_passed=passed,
        must_rate=round(must_rate, 4),
        should_rate=round(should_rate, 4),
        must_passed=must_passed,
        must_run=len(must),
        should_passed=should_passed,
        should_run=len(should),
        must_threshold=settings.gate_must_pass_rate,
        should_threshold=settings.gate_should_pass_rate,
        failing=[
            FailingTest(test_id=t.id, name=t.name, priority=t.priority) for t in ran if t.status == "failed"
        ],
        waived=sum(t.status == "waived" for t in tests),
    )


def gate_failed_reason(status: GateStatus) -> str:
    """The plan's pause reason: `gate_failed` and the failing tests by name."""
    names = ", ".join(f"{f.name!r} ({f.priority})" for f in status.failing)
    return f"{GATE_FAILED}: failing acceptance tests: {names}"


def record_gate_result(session: Session, plan: Masterplan, status: GateStatus, wave: int | None) -> None:
    record_event(
        session,
        plan_stream(plan.id),
        "gate_validation_result",
        {
            "gate_passed": status.gate_passed,
            "must_rate": status.must_rate,
            "should_rate": status.should_rate,
            "wave_number": wave,
        },
        trace_id=plan.trace_id,
        masterplan_id=plan.id,
    )


def override_gate(
    session: Session,
    user: User,
    plan_id: uuid.UUID,
    reason: str,
    settings: Settings,
    client_address: str | None = None,
) -> GateStatus:
    """Waive the failing tests so the gate passes; the plan stays as it is until resumed. Audited."""
    plan = repository.get_plan(session, user, plan_id, for_update=True)
    failing = [t for t in list_tests(session, plan.id) if t.status == "failed"]
    if not failing:
        raise Conflict("the gate has no failing acceptance tests to override", code="gate_not_failing")
    for test in failing:
        test.status = "waived"
    names = [t.name for t in failing]
    if plan.status_reason and plan.status_reason.startswith(GATE_FAILED):
        plan.status_reason = f"{GATE_OVERRIDDEN}: {reason}"
    record_history(
        session,
        actor=user,
        action="gate_override",
        masterplan_id=plan.id,
        before={"failing_tests": names},
        after={"waived_tests": names},
        reason=reason,
        client_address=client_address,
        trace_id=plan.trace_id,
    )
    record_event(
        session,
        plan_stream(plan.id),
        "gate_overridden",
        GateOverridden(waived_tests=names, reason=reason),
        trace_id=plan.trace_id,
        masterplan_id=plan.id,
    )
    session.flush()
    status = gate_status(session, plan.id, settings)
    record_gate_result(session, plan, status, plan.current_wave)
    return status
