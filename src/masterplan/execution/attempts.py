"""What an attempt leaves in the database: its record, the task's validation, completion or failure.

Each function is one write operation (grouped with others on SQLite by the writer); counters and costs are
recomputed from rows, so repeating one after a crash counts nothing twice.

Every task of a wave records an answer and a completion at nearly the same moment, and their interpreter
time adds up one task after another; so these two run prepared statements on the task's columns (no task
row is loaded into the session; measured: about half the time of the same work through ORM rows), and
the answers (and completions) that wait for the writer together are stored by one call: one plan lock,
one query for their facts, the inserts and updates as executemany, the counters and guardrails once.
The status still moves only through the transition table.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from masterplan.events.schemas import AtomExecutionComplete, AtomExecutionProgress, TaskExecutionComplete
from masterplan.execution import state
from masterplan.execution.coder import CoderAnswer, temperature_for
from masterplan.execution.validation import ValidationReport
from masterplan.execution.writer import write, write_batched
from masterplan.llm import ResolvedModel
from masterplan.models import Masterplan, Subtask, Task, TaskAttempt
from masterplan.plans.graph import dependents_closure
from masterplan.plans.transitions import TASK_TRANSITIONS, move_task, transition_error
from masterplan.runtime import Runtime

# The tasks and the sums of their recorded attempts: one statement for a set of answers.
_ANSWER_FACTS = (
    select(
        Task.id,
        Task.task_number,
        Task.name,
        Task.status,
        func.coalesce(func.max(TaskAttempt.attempt_number), 0).label("attempts"),
        func.coalesce(func.sum(TaskAttempt.input_tokens), 0).label("input_tokens"),
        func.coalesce(func.sum(TaskAttempt.output_tokens), 0).label("output_tokens"),
        func.coalesce(func.sum(TaskAttempt.cost_usd), 0.0).label("cost_usd"),
    )
    .select_from(Task)
    .outerjoin(TaskAttempt, TaskAttempt.task_id == Task.id)
    .where(Task.id.in_(bindparam("b_tasks", expanding=True)))
    .group_by(Task.id, Task.task_number, Task.name, Task.status)
)
_TASKS_COST = select(func.coalesce(func.sum(Task.cost_usd), 0.0)).where(
    Task.masterplan_id == bindparam("b_plan")
)
_UPDATE_TASK = update(Task).where(Task.id == bindparam("b_task"))
_COMPLETES_FROM = sorted(status for status, moves in TASK_TRANSITIONS.items() if "completed" in moves)
# What a set of completions needs of their tasks, in one statement: status, number, name, cost and the
# number of the latest attempt (the one that passed).
_DONE_FACTS = (
    select(
        Task.id,
        Task.task_number,
        Task.name,
        Task.status,
        Task.cost_usd,
        func.coalesce(func.max(TaskAttempt.attempt_number), 0).label("attempt"),
    )
    .select_from(Task)
    .outerjoin(TaskAttempt, TaskAttempt.task_id == Task.id)
    .where(Task.id.in_(bindparam("b_tasks", expanding=True)))
    .group_by(Task.id, Task.task_number, Task.name, Task.status, Task.cost_usd)
)
_COMPLETE_TASK = (
    update(Task)
    .where(Task.id == bindparam("b_task"))
    .values(
        status="completed",
        validation_passed=True,
        validation_errors=[],
        validation_logs=bindparam("logs"),
        modified_files=bindparam("paths"),
        commit_sha=bindparam("sha"),
        last_error=None,
        updated_at=bindparam("now"),
        completed_at=bindparam("now"),
    )
)
_PASS_ATTEMPT = (
    update(TaskAttempt)
    .where(TaskAttempt.task_id == bindparam("b_task"), TaskAttempt.attempt_number == bindparam("b_attempt"))
    .values(passed=True, checks_total=bindparam("total"), checks_passed=bindparam("checks_ok"))
)
_SUBTASKS_DONE = update(Subtask).where(Subtask.task_id == bindparam("b_task")).values(status="completed")


@dataclass(frozen=True)
class _Answer:
    plan_id: uuid.UUID
    task_id: uuid.UUID
    answer: CoderAnswer
    model: str
    attempt_in_run: int


def record_answer(
    runtime: Runtime,
    plan_id: uuid.UUID,
    task_id: uuid.UUID,
    answer: CoderAnswer,
    resolved: ResolvedModel,
    attempt_in_run: int,
    queued: Callable[[], None] | None = None,
) -> str:
    """Store the attempt (tokens, cost, answer); `validating`, `retry` or `failed` comes next.

    `queued`: see write_batched.
    """
    return write_batched(
        runtime, _record_answers, _Answer(plan_id, task_id, answer, resolved.name, attempt_in_run), queued
    )


def _record_answers(session: Session, answers: list[_Answer]) -> list[str]:
    verdicts: dict[int, str] = {}
    for plan_id, indexed in _by_plan(answers):
        plan = state.lock_plan(session, plan_id)
        connection = session.connection()
        facts = {
            row.id: row
            for row in connection.execute(_ANSWER_FACTS, {"b_tasks": [a.task_id for _, a in indexed]})
        }
        now = datetime.now(UTC)
        attempts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        tasks: list[state.TaskFacts] = []
        for _, item in indexed:
            row, answer, usage = facts[item.task_id], item.answer, item.answer.usage
            task = state.TaskFacts(item.task_id, row.task_number, row.name, row.status)
            # Usage and cost are the sums of the recorded attempts (never incremented across operations).
            task.cost_usd = float(row.cost_usd) + (usage.cost_usd or 0.0)
            attempts.append(
                {
                    "id": uuid.uuid4(),
                    "task_id": item.task_id,
                    "attempt_number": int(row.attempts) + 1,
                    "passed": False,
                    "errors": [answer.error] if answer.error else [],
                    "model": item.model,
                    "temperature": temperature_for(item.attempt_in_run),
                    "input_tokens": usage.input_tokens,
                    "output_tokens": usage.output_tokens,
                    "cost_usd": usage.cost_usd or 0.0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if answer.output is not None:
                move_task(task, "validating")
            updates.append(
                {
                    "b_task": item.task_id,
                    "llm_model": item.model,
                    "llm_prompt": answer.prompt,
                    "llm_response": answer.output.model_dump_json() if answer.output else None,
                    "input_tokens": int(row.input_tokens) + usage.input_tokens,
                    "output_tokens": int(row.output_tokens) + usage.output_tokens,
                    "cost_usd": task.cost_usd,
                    "status": task.status,
                    "updated_at": now,
                }
            )
            tasks.append(task)
        connection.execute(insert(TaskAttempt), attempts)
        connection.execute(_UPDATE_TASK, updates)
        for task in tasks:
            state.forget_task(session, task.id)
        spent = connection.execute(_TASKS_COST, {"b_plan": plan_id}).scalar_one()
        plan.actual_cost_usd = round(float(spent) + plan.quality_cost_usd, 6)
        state.apply_cost_guardrails(session, plan)
        for (index, item), task in zip(indexed, tasks, strict=True):
            if item.answer.output is not None:
                state.emit_task_status(session, plan, task)
                verdicts[index] = "validating"
            else:
                error = item.answer.error or "no answer"
                verdicts[index] = _attempt_failed(session, plan, _task_by_id(session, task.id), [error])
    return [verdicts[index] for index in range(len(answers))]


_Item = TypeVar("_Item", "_Answer", "_Done")


def _by_plan(items: list[_Item]) -> list[tuple[uuid.UUID, list[tuple[int, _Item]]]]:
    """The items with their positions, by plan (a process may run several plans)."""
    grouped: dict[uuid.UUID, list[tuple[int, _Item]]] = {}
    for index, item in enumerate(items):
        grouped.setdefault(item.plan_id, []).append((index, item))
    return list(grouped.items())


def finish_invalid(runtime: Runtime, plan_id: uuid.UUID, task_id: uuid.UUID, report: ValidationReport) -> str:
    """Store a failed validation; the task goes back to in_progress for a retry, or fails."""

    def op(session: Session) -> str:
        plan = state.lock_plan(session, plan_id)
        task = _task_by_id(session, task_id)
        attempt = _latest_attempt(session, task_id)
        if attempt is not None:
            attempt.errors = report.errors
            attempt.checks_total, attempt.checks_passed = report.checks_total, report.checks_passed
        task.validation_passed = False
        task.validation_errors = report.errors
        task.validation_logs = report.log_text
        state.set_task_status(session, plan, task, "in_progress", "validation failed")
        return _attempt_failed(session, plan, task, report.errors)

    return write(runtime, op)


@dataclass(frozen=True)
class _Done:
    plan_id: uuid.UUID
    task_id: uuid.UUID
    report: ValidationReport
    paths: list[str]
    sha: str | None


def finish_success(
    runtime: Runtime,
    plan_id: uuid.UUID,
    task_id: uuid.UUID,
    report: ValidationReport,
    paths: list[str],
    sha: str | None,
) -> None:
    """The task is done: attempt passed, subtasks done, files and commit recorded, counters current."""
    # Deferrable: a completion changes no cost, and a claim waiting with it starts a model request (the
    # next one of a wave larger than the parallelism).
    write_batched(runtime, _finish_successes, _Done(plan_id, task_id, report, paths, sha), deferrable=True)


def _finish_successes(session: Session, items: list[_Done]) -> list[None]:
    for plan_id, indexed in _by_plan(items):
        plan = state.lock_plan(session, plan_id)
        connection = session.connection()
        now = datetime.now(UTC)
        facts = {
            row.id: row
            for row in connection.execute(_DONE_FACTS, {"b_tasks": [item.task_id for _, item in indexed]})
        }
        finished: list[tuple[_Done, state.TaskFacts, int]] = []
        for _, item in indexed:
            row = facts[item.task_id]
            if row.status == "completed" or any(item.task_id == done.task_id for done, _, _ in finished):
                continue  # a repeat
            if row.status not in _COMPLETES_FROM:
                raise transition_error("task", TASK_TRANSITIONS, row.status, "completed")
            task = state.TaskFacts(item.task_id, row.task_number, row.name, "completed", row.cost_usd)
            finished.append((item, task, int(row.attempt)))
        if not finished:
            continue
        # The statements for all of them at once (each statement costs more than its rows).
        connection.execute(
            _COMPLETE_TASK,
            [
                {
                    "b_task": item.task_id,
                    "logs": item.report.log_text,
                    "paths": item.paths,
                    "sha": item.sha,
                    "now": now,
                }
                for item, _, _ in finished
            ],
        )
        passed = [
            {
                "b_task": item.task_id,
                "b_attempt": attempt,
                "total": item.report.checks_total,
                "checks_ok": item.report.checks_passed,
            }
            for item, _, attempt in finished
            if attempt
        ]
        if passed:
            connection.execute(_PASS_ATTEMPT, passed)
        connection.execute(_SUBTASKS_DONE, [{"b_task": item.task_id} for item, _, _ in finished])
        for item, _, _ in finished:
            state.forget_task(session, item.task_id)
        counted = state.refresh_progress(session, plan)
        # The events after the counters: they are numbered and stored together. Each reports the count
        # as of its own task, as if the tasks had finished one after another.
        completed = plan.completed_tasks - len(finished)
        for item, task, attempt in finished:
            completed += 1
            state.emit_task_status(session, plan, task)
            _complete_events(
                session, plan, task, item.paths, {"commit_sha": item.sha, "attempts": attempt}, completed
            )
        state.close_wave_if_done(session, plan, counted)
        state.apply_cost_guardrails(session, plan)
    return [None] * len(items)


def _attempt_failed(session: Session, plan: Masterplan, task: Task, errors: list[str]) -> str:
    task.retry_count += 1
    task.last_error = "; ".join(errors)[:4000]
    if task.retry_count > task.max_retries:
        fail_task(session, plan, task)
        return "failed"
    atom_progress(session, plan, task, "retrying", task.retry_count + 1)
    return "retry"


def fail_task(session: Session, plan: Masterplan, task: Task) -> None:
    """The task failed for good: its dependents are blocked, independent tasks go on."""
    state.set_task_status(session, plan, task, "failed", task.last_error or "failed")
    tasks = state.tasks_of(session, plan.id)
    graph = {n: t.depends_on for n, t in tasks.items()}
    state.block_tasks(session, plan, tasks, dependents_closure(graph, [task.task_number]))
    counted = state.refresh_progress(session, plan)
    _complete_events(session, plan, task, [], {"attempts": task.retry_count, "error": task.last_error})
    state.close_wave_if_done(session, plan, counted)


def _complete_events(
    session: Session,
    plan: Masterplan,
    task: Task | state.TaskFacts,
    files: list[str],
    result: dict[str, Any],
    completed_tasks: int | None = None,
) -> None:
    state.emit(
        session,
        plan,
        TaskExecutionComplete(
            task_id=task.id,
            status=task.status,
            output_files=files,
            completed_tasks=plan.completed_tasks if completed_tasks is None else completed_tasks,
            total_tasks=plan.total_tasks,
        ),
    )
    state.emit(
        session,
        plan,
        AtomExecutionComplete(
            atom_id=f"task-{task.task_number}",
            status=task.status,
            result={**result, "task_number": task.task_number, "cost_usd": task.cost_usd},
        ),
    )


def atom_progress(session: Session, plan: Masterplan, task: Task, status: str, attempt: int) -> None:
    state.emit(
        session,
        plan,
        AtomExecutionProgress(
            atom_id=f"task-{task.task_number}", status=status, current=attempt, total=task.max_retries + 1
        ),
    )


def _task_by_id(session: Session, task_id: uuid.UUID) -> Task:
    return session.scalars(select(Task).where(Task.id == task_id)).one()


def _latest_attempt(session: Session, task_id: uuid.UUID) -> TaskAttempt | None:
    return session.scalars(
        select(TaskAttempt)
        .where(TaskAttempt.task_id == task_id)
        .order_by(TaskAttempt.attempt_number.desc())
        .limit(1)
    ).first()
