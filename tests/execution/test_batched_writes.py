"""Answers and completions that wait for the writer together are stored by one call (one set of
statements for all), exactly as one at a time would store them; a bad item of such a group fails alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from masterplan.errors import InvalidStatusTransition
from masterplan.events import StoredEvent, plan_stream
from masterplan.execution import atom, attempts, state
from masterplan.execution.coder import CoderAnswer
from masterplan.execution.validation import ValidationReport
from masterplan.execution.writer import GroupWriter, Pending, _Operation, submit_batched
from masterplan.llm import CallUsage, CoderOutput, GeneratedFile, resolve_model
from masterplan.models import ExecutionEvent, Masterplan, Task, TaskAttempt, User
from masterplan.runtime import Runtime
from tests.fixtures.running_plan import FILES, RunningPlan, running_plan


def answer_for(number: int, cost: float) -> CoderAnswer:
    (path, content), *_ = FILES[number].items()
    return CoderAnswer(
        CoderOutput(files=[GeneratedFile(path=path, content=content)]),
        None,
        CallUsage(model="sim", input_tokens=100, output_tokens=20, requests=1, cost_usd=cost),
        "prompt",
    )


def done_item(plan: RunningPlan, number: int) -> attempts._Done:
    return attempts._Done(
        plan.id, plan.task_ids[number], ValidationReport(checks_total=1), list(FILES[number]), None
    )


def test_a_group_of_answers_and_completions_is_stored_as_one_at_a_time_would(
    runtime: Runtime, local_user: User
) -> None:
    plan = running_plan(runtime, local_user)
    for number in (1, 2):
        atom.begin(runtime, plan.id, number)
    answers = [
        attempts._Answer(plan.id, plan.task_ids[n], answer_for(n, cost), "sim", 1)
        for n, cost in ((1, 0.01), (2, 0.02))
    ]
    with runtime.transaction() as session:
        assert attempts._record_answers(session, answers) == ["validating", "validating"]
    with runtime.transaction() as session:
        assert attempts._finish_successes(session, [done_item(plan, 1), done_item(plan, 2)]) == [None, None]
    with runtime.reading() as session:
        tasks = {t.task_number: t for t in session.scalars(select(Task).where(Task.masterplan_id == plan.id))}
        assert [(tasks[n].status, tasks[n].cost_usd) for n in (1, 2, 3)] == [
            ("completed", 0.01),
            ("completed", 0.02),
            ("pending", 0.0),
        ]
        passed = session.scalars(
            select(TaskAttempt.passed).where(TaskAttempt.task_id.in_([plan.task_ids[1], plan.task_ids[2]]))
        ).all()
        assert passed == [True, True]
        row = session.get(Masterplan, plan.id)
        assert row is not None and row.completed_tasks == 2
        assert row.actual_cost_usd == pytest.approx(0.03 + row.quality_cost_usd)
        # Each completion reports the count as of its own task.
        reported = session.scalars(
            select(ExecutionEvent.payload)
            .where(ExecutionEvent.type == "task_execution_complete")
            .order_by(ExecutionEvent.seq)
        ).all()
        assert [p["completed_tasks"] for p in reported] == [1, 2]


def test_a_bad_item_of_a_batched_group_fails_alone(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user)
    start = atom.begin(runtime, plan.id, 1)
    assert start.task_id is not None
    resolved = resolve_model("coder", runtime.settings.model_copy(update={"model_coder": "sim"}))
    assert (
        attempts.record_answer(runtime, plan.id, start.task_id, answer_for(1, 0.01), resolved, 1)
        == "validating"
    )

    def operation(item: attempts._Done) -> _Operation[None]:
        def alone(session: Session) -> None:
            return attempts._finish_successes(session, [item])[0]

        return _Operation(alone, attempts._finish_successes, item)

    good, bad = operation(done_item(plan, 1)), operation(done_item(plan, 3))  # task 3 never started
    GroupWriter(runtime)._commit([good, bad])
    assert good.done and good.error is None
    assert isinstance(bad.error, InvalidStatusTransition)
    with runtime.reading() as session:
        statuses = dict(
            session.execute(select(Task.id, Task.status).where(Task.masterplan_id == plan.id)).all()
        )
        assert statuses[plan.task_ids[1]] == "completed" and statuses[plan.task_ids[3]] == "pending"


def test_a_failed_operation_of_a_group_takes_only_its_own_events_with_it(
    runtime: Runtime, local_user: User
) -> None:
    plan = running_plan(runtime, local_user)
    published: list[StoredEvent] = []
    runtime.bus.subscribe(published.extend)

    def warning(level: str, fail: bool) -> _Operation[None]:
        def fn(session: Session) -> None:
            locked = state.lock_plan(session, plan.id)
            state.emit(session, locked, state.cost_warning(locked, level))
            session.flush()  # a flush inside the operation's savepoint does not write its events early
            if fail:
                raise ValueError("boom")

        return _Operation(fn)

    group = [warning("soft", False), warning("hard", True), warning("soft", False)]
    GroupWriter(runtime)._commit(group)
    assert [type(o.error) for o in group] == [type(None), ValueError, type(None)]
    with runtime.reading() as session:
        stored = session.execute(
            select(ExecutionEvent.seq, ExecutionEvent.payload)
            .where(ExecutionEvent.stream == plan_stream(plan.id), ExecutionEvent.type == "cost_warning")
            .order_by(ExecutionEvent.seq)
        ).all()
        last = session.scalar(
            select(func.max(ExecutionEvent.seq)).where(ExecutionEvent.stream == plan_stream(plan.id))
        )
    assert [payload["level"] for _, payload in stored] == ["soft", "soft"]
    assert [seq for seq, _ in stored] == [last - 1, last]  # numbered without gaps
    assert [(e.seq, e.payload["level"]) for e in published] == [(seq, p["level"]) for seq, p in stored]


def test_a_group_runs_its_operations_in_the_order_they_came(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user)
    start = atom.begin(runtime, plan.id, 1)
    assert start.task_id is not None
    resolved = resolve_model("coder", runtime.settings.model_copy(update={"model_coder": "sim"}))
    item = attempts._Answer(plan.id, start.task_id, answer_for(1, 0.01), resolved.name, 1)
    answer = _Operation(
        lambda session: attempts._record_answers(session, [item])[0], attempts._record_answers, item
    )

    def status(session: Session) -> str:
        return session.scalars(select(Task.status).where(Task.id == start.task_id)).one()

    before, after = _Operation(status), _Operation(status)
    GroupWriter(runtime)._commit([before, answer, after])
    assert (before.result, answer.result, after.result) == ("in_progress", "validating", "validating")


def test_a_slot_handed_over_commits_the_waiting_claim_with_the_answer_that_freed_it(
    runtime: Runtime, local_user: User
) -> None:
    plan = running_plan(runtime, local_user)
    start = atom.begin(runtime, plan.id, 1)
    assert start.task_id is not None
    slots = atom.Slots(1)
    first = slots.slot(False)
    first.take()
    queued_by: list[str] = []

    def claim_second() -> Pending[str | None]:
        queued_by.append(threading.current_thread().name)
        return submit_batched(runtime, atom._claim, (plan.id, 2))

    outcome: list[str | None] = []

    def second_task() -> None:
        pending = slots.slot(False).take(claim_second)
        assert pending is not None
        outcome.append(pending.result())

    waiter = threading.Thread(target=second_task, name="second-task")
    waiter.start()
    while not slots._waiting:  # the second task waits for the only slot
        time.sleep(0.001)
    resolved = resolve_model("coder", runtime.settings.model_copy(update={"model_coder": "sim"}))
    verdict = attempts.record_answer(
        runtime, plan.id, start.task_id, answer_for(1, 0.01), resolved, 1, queued=first.give
    )
    # The answer's write returned: the claim queued behind it is committed with it already.
    with runtime.reading() as session:
        statuses = dict(
            session.execute(select(Task.task_number, Task.status).where(Task.masterplan_id == plan.id)).all()
        )
    waiter.join(timeout=10)
    assert verdict == "validating"
    assert queued_by == [threading.current_thread().name]
    assert (statuses[1], statuses[2]) == ("validating", "in_progress")
    assert outcome == [None]


def test_a_deferrable_write_waits_for_the_next_group_while_an_urgent_one_waits(runtime: Runtime) -> None:
    writer = GroupWriter(runtime)
    order: list[tuple[str, Session]] = []

    def note(name: str) -> Callable[[Session], str]:
        def op(session: Session) -> str:
            order.append((name, session))
            return name

        return op

    completion = writer.submit(note("completion"), deferrable=True)
    answer = writer.submit(note("answer"))
    assert writer.finish(completion) == "completion" and answer.done
    assert [name for name, _ in order] == ["completion", "answer"]  # nothing urgent: one group as they came
    assert order[0][1] is order[1][1]

    order.clear()
    completion = writer.submit(note("completion"), deferrable=True)
    answer = writer.submit(note("answer"))
    claim = writer.submit(note("claim"), urgent=True)
    assert writer.finish(completion) == "completion"  # its waiter commits the others' group first
    assert (answer.done, claim.done) == (True, True)
    assert [name for name, _ in order] == ["answer", "claim", "completion"]
    # Two transactions: the answer and the claim together, then the completion.
    assert order[0][1] is order[1][1] and order[2][1] is not order[0][1]
