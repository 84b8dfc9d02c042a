"""Running one task (an atom: the task with its subtasks): coder attempts, validation, write, commit.

The database is the durable state of an atom, so the whole function can be repeated after a crash:
a task already finished is reported as it is; a task caught in `validating` re-validates the stored
answer instead of asking the model again; attempt records are unique per number; files are written
atomically and committed only when they differ from HEAD.
"""

from __future__ import annotations

import functools
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from masterplan.errors import ConfigurationError
from masterplan.events.schemas import AtomExecutionComplete, AtomExecutionProgress, TaskExecutionComplete
from masterplan.execution import state
from masterplan.execution.coder import CoderAnswer, CoderContext, rate_limiter, run_coder, temperature_for
from masterplan.execution.scheduler import TERMINAL
from masterplan.execution.validation import ValidationReport, validate_files
from masterplan.execution.writer import write
from masterplan.llm import CoderOutput, ResolvedModel, resolve_model
from masterplan.models import Masterplan, Subtask, Task, TaskAttempt
from masterplan.plans.graph import dependents_closure
from masterplan.plans.service import change_plan_status
from masterplan.review.service import regeneration_feedback
from masterplan.runtime import Runtime
from masterplan.workspace import read_files, write_atomic
from masterplan.workspace.git import committer_for, find_task_commit, task_commit_message

# Set while the process shuts down: atoms stop between attempts and the run stays pending.
stopping = threading.Event()


class Interrupted(BaseException):
    """The process is stopping; not an Exception, so DBOS records no outcome and the run resumes later."""


@dataclass
class AtomStart:
    """What `begin` found: either an outcome (nothing to run) or what the attempts need."""

    outcome: str | None = None
    task_id: uuid.UUID | None = None
    workspace: Path = Path()
    complexity: str = "medium"
    max_retries: int = 3
    retry_count: int = 0
    stored_output: CoderOutput | None = None
    context: CoderContext | None = None
    dependency_paths: list[str] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)


def run_atom(runtime: Runtime, plan_id: uuid.UUID, number: int) -> dict[str, Any]:
    """Run a task to completed or failed; `deferred` when the plan is not running (paused, cancelled)."""
    start = begin(runtime, plan_id, number)
    if start.outcome is not None:
        return {"task_number": number, "status": start.outcome}
    assert start.context is not None and start.task_id is not None
    start.context.dependency_files = read_files(start.workspace, start.dependency_paths)
    start.context.current_files = read_files(start.workspace, start.context.target_files)
    try:
        resolved = resolve_model("coder", runtime.settings, complexity=start.complexity)
    except ConfigurationError as exc:
        pause_plan(runtime, plan_id, f"model: {exc}")
        return {"task_number": number, "status": "deferred"}
    limiter = rate_limiter(runtime.settings.llm_requests_per_second)
    feedback: list[str] = list(start.feedback)
    output = start.stored_output
    retry = start.retry_count
    checking: Future[ValidationReport] | None = None
    while True:
        if output is None:
            if stopping.is_set():
                raise Interrupted
            if retry > start.retry_count and not plan_running(runtime, plan_id):
                return {"task_number": number, "status": "deferred"}
            answer = run_coder(resolved, start.context, attempt=retry + 1, feedback=feedback, limiter=limiter)
            if answer.output is not None:  # validation needs no database: it runs while the answer is stored
                checking = _validation_pool().submit(
                    validate_files, [(f.path, f.content) for f in answer.output.files]
                )
            verdict = record_answer(runtime, plan_id, start.task_id, answer, resolved, retry + 1)
            if verdict == "failed":
                return {"task_number": number, "status": "failed"}
            if answer.output is None:
                retry, feedback = retry + 1, [answer.error or "no answer"]
                continue
            output = answer.output
        files = [(f.path, f.content) for f in output.files]
        report = checking.result() if checking is not None else validate_files(files)
        checking = None
        if not report.passed:
            if finish_invalid(runtime, plan_id, start.task_id, report) == "failed":
                return {"task_number": number, "status": "failed"}
            retry, feedback, output = retry + 1, report.errors, None
            continue
        for path, content in files:
            write_atomic(start.workspace, path, content)
        message = task_commit_message(number, start.context.task_name)
        sha = committer_for(start.workspace).commit(dict(files), message)
        sha = sha or find_task_commit(start.workspace, number)
        finish_success(runtime, plan_id, start.task_id, report, [p for p, _ in files], sha)
        return {"task_number": number, "status": "completed", "commit_sha": sha}


@functools.cache
def _validation_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="masterplan-validate")


def begin(runtime: Runtime, plan_id: uuid.UUID, number: int) -> AtomStart:
    """Move the task to in_progress (or find where a crashed run left it) and gather its context."""
    with runtime.reading() as session:
        plan = session.get(Masterplan, plan_id)
        task = _task(session, plan_id, number)
        if plan is not None and task.status in TERMINAL:
            return AtomStart(outcome=task.status)
        if plan is not None and plan.status != "in_progress":
            if task.status == "in_progress":
                write(runtime, lambda s: _unclaim(s, plan_id, number))
            return AtomStart(outcome="deferred")
        # The wave's decision already moved it to in_progress: nothing to write before the model call.
        claimed = (
            plan is not None
            and task.status in ("in_progress", "validating")
            and plan.actual_cost_usd < plan.hard_cost_limit_usd
        )
        if claimed:
            return _context(session, plan_id, number)

    def op(session: Session) -> AtomStart | None:
        plan = state.lock_plan(session, plan_id)
        task = _task(session, plan_id, number)
        if task.status in TERMINAL:
            return AtomStart(outcome=task.status)
        if plan.status != "in_progress":
            return AtomStart(outcome="deferred")
        if plan.actual_cost_usd >= plan.hard_cost_limit_usd:
            state.emit(session, plan, state.cost_warning(plan, "hard"))
            state.pause_for_cost(session, plan, "the hard limit was reached before this task started")
            return AtomStart(outcome="deferred")
        if task.status == "pending":
            state.set_task_status(session, plan, task, "ready")
        if task.status == "ready":
            state.set_task_status(session, plan, task, "in_progress")
            _atom_progress(session, plan, task, "started", 1)
        return None

    outcome = write(runtime, op)
    if outcome is not None:
        return outcome
    with runtime.reading() as session:
        return _context(session, plan_id, number)


def _unclaim(session: Session, plan_id: uuid.UUID, number: int) -> None:
    """A task claimed by the wave but not started (the plan was paused meanwhile) is ready again."""
    plan = state.lock_plan(session, plan_id)
    task = _task(session, plan_id, number)
    if task.status == "in_progress" and plan.status != "in_progress":
        state.set_task_status(session, plan, task, "ready", "waiting: the plan is not running")


def _context(session: Session, plan_id: uuid.UUID, number: int) -> AtomStart:
    plan = session.get(Masterplan, plan_id)
    task = _task(session, plan_id, number)
    assert plan is not None
    deps = session.scalars(
        select(Task).where(Task.masterplan_id == plan_id, Task.task_number.in_(task.depends_on))
    ).all()
    subtasks = session.scalars(select(Subtask).where(Subtask.task_id == task.id).order_by(Subtask.number))
    return AtomStart(
        task_id=task.id,
        workspace=Path(plan.workspace_path or "."),
        complexity=task.complexity,
        max_retries=task.max_retries,
        retry_count=task.retry_count,
        stored_output=_stored_output(task) if task.status == "validating" else None,
        dependency_paths=[p for d in deps for p in (d.modified_files or d.target_files)],
        feedback=regeneration_feedback(session, task.id),
        context=CoderContext(
            project_name=plan.project_name,
            project_description=plan.description,
            tech_stack=list(plan.tech_stack),
            architecture_style=plan.architecture_style,
            task_number=task.task_number,
            task_name=task.name,
            task_description=task.description,
            complexity=task.complexity,
            target_files=list(task.target_files),
            subtasks=[s.name + (f": {s.description}" if s.description else "") for s in subtasks],
        ),
    )


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
        number = (
            session.scalar(select(func.max(TaskAttempt.attempt_number)).where(TaskAttempt.task_id == task_id))
            or 0
        ) + 1
        session.add(
            TaskAttempt(
                task_id=task_id,
                attempt_number=number,
                passed=False,
                errors=[answer.error] if answer.error else [],
                model=resolved.name,
                temperature=temperature_for(attempt_in_run),
                input_tokens=answer.usage.input_tokens,
                output_tokens=answer.usage.output_tokens,
                cost_usd=answer.usage.cost_usd or 0.0,
            )
        )
        task.llm_model = resolved.name
        task.llm_prompt = answer.prompt
        task.llm_response = answer.output.model_dump_json() if answer.output else None
        state.refresh_task_usage(session, task)
        state.refresh_cost(session, plan)
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
        state.set_task_status(session, plan, task, "completed")
        state.refresh_progress(session, plan)
        _complete_events(
            session,
            plan,
            task,
            paths,
            {"commit_sha": sha, "attempts": attempt.attempt_number if attempt else 0},
        )
        state.close_wave_if_done(session, plan)
        state.apply_cost_guardrails(session, plan)

    write(runtime, op)


def plan_running(runtime: Runtime, plan_id: uuid.UUID) -> bool:
    """Whether the plan still accepts new model calls (not paused, cancelled or over budget)."""
    with runtime.reading() as session:
        plan = session.get(Masterplan, plan_id)
        return plan is not None and plan.status == "in_progress"


def pause_plan(runtime: Runtime, plan_id: uuid.UUID, reason: str) -> None:
    """Pause a running plan for a reason the user must fix (e.g. no model configured)."""

    def op(session: Session) -> None:
        plan = state.lock_plan(session, plan_id)
        if plan.status == "in_progress":
            change_plan_status(session, plan, "paused", actor=None, action="pause", reason=reason)

    write(runtime, op)


def _attempt_failed(session: Session, plan: Masterplan, task: Task, errors: list[str]) -> str:
    task.retry_count += 1
    task.last_error = "; ".join(errors)[:4000]
    if task.retry_count > task.max_retries:
        fail_task(session, plan, task)
        return "failed"
    _atom_progress(session, plan, task, "retrying", task.retry_count + 1)
    return "retry"


def fail_task(session: Session, plan: Masterplan, task: Task) -> None:
    """The task failed for good: its dependents are blocked, independent tasks go on."""
    state.set_task_status(session, plan, task, "failed", task.last_error or "failed")
    tasks = state.tasks_of(session, plan.id)
    graph = {n: t.depends_on for n, t in tasks.items()}
    state.block_tasks(session, plan, tasks, dependents_closure(graph, [task.task_number]))
    state.refresh_progress(session, plan)
    _complete_events(session, plan, task, [], {"attempts": task.retry_count, "error": task.last_error})
    state.close_wave_if_done(session, plan)


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


def _atom_progress(session: Session, plan: Masterplan, task: Task, status: str, attempt: int) -> None:
    state.emit(
        session,
        plan,
        AtomExecutionProgress(
            atom_id=f"task-{task.task_number}", status=status, current=attempt, total=task.max_retries + 1
        ),
    )


def _stored_output(task: Task) -> CoderOutput | None:
    if not task.llm_response:
        return None
    try:
        return CoderOutput.model_validate_json(task.llm_response)
    except ValidationError:
        return None


def _task(session: Session, plan_id: uuid.UUID, number: int) -> Task:
    return session.scalars(
        select(Task).where(Task.masterplan_id == plan_id, Task.task_number == number)
    ).one()


def _task_by_id(session: Session, task_id: uuid.UUID) -> Task:
    return session.scalars(select(Task).where(Task.id == task_id)).one()


def _latest_attempt(session: Session, task_id: uuid.UUID) -> TaskAttempt | None:
    return session.scalars(
        select(TaskAttempt)
        .where(TaskAttempt.task_id == task_id)
        .order_by(TaskAttempt.attempt_number.desc())
        .limit(1)
    ).first()
