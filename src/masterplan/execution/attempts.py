"""What an attempt leaves in the database: its record, the task's validation, completion or failure.

Each function is one write operation (grouped with others on SQLite by the writer); counters and costs are
recomputed from rows, so repeating one after a crash counts nothing twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from masterplan.events.schemas import AtomExecutionComplete, AtomExecutionProgress, TaskExecutionComplete
from masterplan.execution import state
from masterplan.execution.coder import CoderAnswer, temperature_for
from masterplan.execution.validation import ValidationReport
from masterplan.execution.writer import write
from masterplan.llm import ResolvedModel
from masterplan.models import Masterplan, Subtask, Task, TaskAttempt
from masterplan.plans.graph import dependents_closure
from masterplan.runtime import Runtime


def record_answer(
    runtime: Runtime,
    plan_id: uuid.UUID,
    task_id: uuid.UUID,
    answer: CoderAnswer,
    resolved: ResolvedModel,
    attempt_in_run: int,
) -> str:
    """Store the attempt (tokens, cost, answer); `validating`, `retry` or `failed` comes next."""

    def op(session: Session) -> str:
        plan = state.lock_plan(session, plan_id)
        task = _task_by_id(session, task_id)
        # Read everything first, then change: the changes are flushed once, at the end.
        earlier = session.execute(
            select(
                func.coalesce(func.max(TaskAttempt.attempt_number), 0),
                func.coalesce(func.sum(TaskAttempt.input_tokens), 0),
                func.coalesce(func.sum(TaskAttempt.output_tokens), 0),
                func.coalesce(func.sum(TaskAttempt.cost_usd), 0.0),
            ).where(TaskAttempt.task_id == task_id)
        ).one()
        other_tasks_cost = session.scalar(
            select(func.coalesce(func.sum(Task.cost_usd), 0.0)).where(
                Task.masterplan_id == plan_id, Task.id != task_id
            )
        )
        usage = answer.usage
        session.add(
            TaskAttempt(
                task_id=task_id,
                attempt_number=int(earlier[0]) + 1,
                passed=False,
                errors=[answer.error] if answer.error else [],
                model=resolved.name,
                temperature=temperature_for(attempt_in_run),
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost_usd=usage.cost_usd or 0.0,
            )
        )
        task.llm_model = resolved.name
        task.llm_prompt = answer.prompt
        task.llm_response = answer.output.model_dump_json() if answer.output else None
        # Usage and cost are the sums of the recorded attempts (never incremented across operations).
        task.input_tokens = int(earlier[1]) + usage.input_tokens
        task.output_tokens = int(earlier[2]) + usage.output_tokens
        task.cost_usd = float(earlier[3]) + (usage.cost_usd or 0.0)
        plan.actual_cost_usd = round(
            float(other_tasks_cost or 0.0) + task.cost_usd + plan.quality_cost_usd, 6
        )
        state.apply_cost_guardrails(session, plan)
        if answer.output is not None:
            state.set_task_status(session, plan, task, "validating")
            return "validating"
        return _attempt_failed(session, plan, task, [answer.error or "no answer"])

    return write(runtime, op)


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


def finish_success(
    runtime: Runtime,
    plan_id: uuid.UUID,
    task_id: uuid.UUID,
    report: ValidationReport,
    paths: list[str],
    sha: str | None,
) -> None:
    """The task is done: attempt passed, subtasks done, files and commit recorded, counters current."""

    def op(session: Session) -> None:
        plan = state.lock_plan(session, plan_id)
        task = _task_by_id(session, task_id)
        if task.status == "completed":
            return
        attempt = _latest_attempt(session, task_id)
        if attempt is not None:
            attempt.passed = True
            attempt.checks_total, attempt.checks_passed = report.checks_total, report.checks_passed
        task.validation_passed = True
        task.validation_errors = []
        task.validation_logs = report.log_text
        task.modified_files = paths
        task.commit_sha = sha
        task.last_error = None
        session.execute(update(Subtask).where(Subtask.task_id == task_id).values(status="completed"))
        state.set_task_status(session, plan, task, "completed", report=False)
        counted = state.refresh_progress(session, plan)
        # The events after the counters: they are numbered and stored together.
        state.emit_task_status(session, plan, task)
        _complete_events(
            session,
            plan,
            task,
            paths,
            {"commit_sha": sha, "attempts": attempt.attempt_number if attempt else 0},
        )
        state.close_wave_if_done(session, plan, counted)
        state.apply_cost_guardrails(session, plan)

    write(runtime, op)


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
    session: Session, plan: Masterplan, task: Task, files: list[str], result: dict[str, Any]
) -> None:
    state.emit(
        session,
        plan,
        TaskExecutionComplete(
            task_id=task.id,
            status=task.status,
            output_files=files,
            completed_tasks=plan.completed_tasks,
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
