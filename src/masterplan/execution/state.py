"""Execution state in the database: snapshots for the scheduler, counters, cost guardrails, blocking.

Every function runs inside the caller's transaction and never commits. Counters and costs are recomputed
from the rows (never incremented), so repeating a step after a crash cannot double-count anything.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, defer

from masterplan.errors import NotFound
from masterplan.events import plan_stream, record_event
from masterplan.events.schemas import (
    AtomExecutionProgress,
    CostWarning,
    EventPayload,
    TaskExecutionProgress,
    WaveExecutionComplete,
)
from masterplan.execution.scheduler import TERMINAL, TaskView
from masterplan.models import Masterplan, Milestone, Phase, Subtask, Task
from masterplan.plans.graph import waves
from masterplan.plans.service import change_plan_status
from masterplan.plans.transitions import move_task

COST_LIMIT = "cost_limit"


LOCKED_KEY = "masterplan.locked_plans"
_LOCK_PLAN = select(Masterplan).where(Masterplan.id == bindparam("b_plan")).with_for_update()


def lock_plan(session: Session, plan_id: uuid.UUID) -> Masterplan:
    """The plan row, locked for this transaction (every execution write takes this lock first)."""
    locked: set[uuid.UUID] = session.info.setdefault(LOCKED_KEY, set())
    if plan_id in locked:  # already locked by an earlier operation of this (grouped) transaction
        held = session.get(Masterplan, plan_id)
        if held is not None:
            return held
    plan = session.scalars(_LOCK_PLAN, {"b_plan": plan_id}).one_or_none()
    if plan is None:
        raise NotFound(f"masterplan {plan_id} not found", code="masterplan_not_found")
    locked.add(plan_id)
    return plan


# Task rows as the engine's bookkeeping loads them: the model's prompt and answer and the validation log
# (the large columns) are read only if touched.
WITHOUT_TEXTS = (defer(Task.llm_prompt), defer(Task.llm_response), defer(Task.validation_logs))


def tasks_of(session: Session, plan_id: uuid.UUID) -> dict[int, Task]:
    """Every task of a plan (without its large texts), by number."""
    rows = session.scalars(
        select(Task).where(Task.masterplan_id == plan_id).order_by(Task.task_number).options(*WITHOUT_TEXTS)
    )
    return {t.task_number: t for t in rows}


def tasks_numbered(session: Session, plan_id: uuid.UUID, numbers: Iterable[int]) -> dict[int, Task]:
    """The plan's tasks with these numbers (without their large texts), by number."""
    wanted = sorted(set(numbers))
    if not wanted:
        return {}
    rows = session.scalars(
        select(Task)
        .where(Task.masterplan_id == plan_id, Task.task_number.in_(wanted))
        .options(*WITHOUT_TEXTS)
    )
    return {t.task_number: t for t in rows}


@dataclass(frozen=True)
class Shape:
    """What stays fixed while a plan runs (edits bump its version): each task's id, name, description,
    subtasks, dependencies, files, complexity, mode and retries, and the wave of each task."""

    ids: dict[int, uuid.UUID]
    names: dict[int, str]
    descriptions: dict[int, str]
    subtasks: dict[int, tuple[str, ...]]
    depends_on: dict[int, tuple[int, ...]]
    files: dict[int, tuple[str, ...]]
    complexity: dict[int, str]
    mode: dict[int, str]
    max_retries: dict[int, int]
    wave_of: dict[int, int]


_shapes: dict[tuple[uuid.UUID, int, str], Shape] = {}
_shapes_lock = threading.Lock()
_SHAPES_KEPT = 64


def shape(session: Session, plan: Masterplan) -> Shape:
    """The plan's fixed facts, read once per version (decoding them cost more than the rest of a
    decision)."""
    key = (plan.id, plan.version, plan.execution_mode)
    with _shapes_lock:
        known = _shapes.get(key)
    if known is not None:
        return known
    rows = session.execute(
        select(
            Task.task_number,
            Task.id,
            Task.name,
            Task.description,
            Task.depends_on,
            Task.target_files,
            Task.complexity,
            Task.max_retries,
            Phase.execution_mode,
        )
        .join(Milestone, Task.milestone_id == Milestone.id)
        .join(Phase, Milestone.phase_id == Phase.id)
        .where(Task.masterplan_id == plan.id)
    ).all()
    subtasks: dict[int, list[str]] = {}
    for number, name, description in session.execute(
        select(Task.task_number, Subtask.name, Subtask.description)
        .join(Task, Subtask.task_id == Task.id)
        .where(Task.masterplan_id == plan.id)
        .order_by(Task.task_number, Subtask.number)
    ):
        subtasks.setdefault(number, []).append(name + (f": {description}" if description else ""))
    depends_on = {row.task_number: tuple(row.depends_on) for row in rows}
    levels = waves(depends_on)
    found = Shape(
        ids={row.task_number: row.id for row in rows},
        names={row.task_number: row.name for row in rows},
        descriptions={row.task_number: row.description for row in rows},
        subtasks={number: tuple(texts) for number, texts in subtasks.items()},
        depends_on=depends_on,
        files={row.task_number: tuple(row.target_files) for row in rows},
        complexity={row.task_number: row.complexity for row in rows},
        mode={row.task_number: row.execution_mode or plan.execution_mode for row in rows},
        max_retries={row.task_number: row.max_retries for row in rows},
        wave_of={n: i + 1 for i, level in enumerate(levels) for n in level},
    )
    with _shapes_lock:
        if len(_shapes) >= _SHAPES_KEPT:
            _shapes.pop(next(iter(_shapes)))
        _shapes[key] = found
    return found


_STATUSES = select(Task.task_number, Task.status, Task.approved_to_run).where(
    Task.masterplan_id == bindparam("b_plan")
)


def snapshot(session: Session, plan: Masterplan) -> tuple[dict[int, TaskView], Shape]:
    """Every task's scheduling view (one query for the statuses; the rest is the plan's shape)."""
    fixed = shape(session, plan)
    views = {
        number: TaskView(
            number=number,
            status=status,
            depends_on=fixed.depends_on[number],
            mode=fixed.mode[number],
            approved=approved,
            files=fixed.files[number],
        )
        for number, status, approved in session.execute(_STATUSES, {"b_plan": plan.id})
    }
    return views, fixed


_SET_STATUS = (
    update(Task)
    .where(Task.id == bindparam("b_task"))
    .values(
        status=bindparam("status"),
        updated_at=bindparam("now"),
        started_at=func.coalesce(Task.started_at, bindparam("started")),
    )
)


def store_statuses(session: Session, tasks: list[TaskFacts]) -> None:
    """Store statuses moved on TaskFacts (pending, ready, in_progress) with one statement."""
    if not tasks:
        return
    now = datetime.now(UTC)
    session.connection().execute(
        _SET_STATUS,
        [
            {
                "b_task": t.id,
                "status": t.status,
                "now": now,
                "started": now if t.status == "in_progress" else None,
            }
            for t in tasks
        ],
    )
    for task in tasks:
        forget_task(session, task.id)


def forget_task(session: Session, task_id: uuid.UUID) -> None:
    """A task row changed by statement: a copy loaded earlier in this (grouped) transaction is stale."""
    loaded = session.identity_map.get(session.identity_key(Task, task_id))
    if loaded is not None:
        session.expire(loaded)


@dataclass
class TaskFacts:
    """The columns of a task its answer's record and its completion need (the row is not loaded)."""

    id: uuid.UUID
    task_number: int
    name: str
    status: str
    cost_usd: float = 0.0


def emit(session: Session, plan: Masterplan, payload: EventPayload) -> None:
    """Record an execution event in this transaction; it is published after commit."""
    record_event(
        session,
        plan_stream(plan.id),
        payload.event_type,
        payload,
        trace_id=plan.trace_id,
        masterplan_id=plan.id,
    )


def emit_task_status(
    session: Session, plan: Masterplan, task: Task | TaskFacts, description: str = ""
) -> None:
    emit(
        session,
        plan,
        TaskExecutionProgress(
            task_id=task.id,
            task_number=task.task_number,
            status=task.status,
            description=description or task.name,
            current_task=task.task_number,
            total_tasks=plan.total_tasks,
        ),
    )


def claim_task(session: Session, plan: Masterplan, task: TaskFacts, max_retries: int) -> None:
    """Move a ready task to in_progress and report it started (store it with store_statuses)."""
    move_task(task, "in_progress")
    emit_task_status(session, plan, task)
    emit(
        session,
        plan,
        AtomExecutionProgress(
            atom_id=f"task-{task.task_number}", status="started", current=1, total=max_retries + 1
        ),
    )


def set_task_status(
    session: Session, plan: Masterplan, task: Task, status: str, description: str = "", *, report: bool = True
) -> None:
    """Move a task through the transition table, stamp it and (unless told not to) report it."""
    move_task(task, status)
    now = datetime.now(UTC)
    task.updated_at = now
    if status == "in_progress" and task.started_at is None:
        task.started_at = now
    if status in ("completed", "failed", "skipped"):
        task.completed_at = now
    if report:
        emit_task_status(session, plan, task, description)


def block_tasks(session: Session, plan: Masterplan, tasks: dict[int, Task], numbers: Iterable[int]) -> None:
    for number in sorted(numbers):
        task = tasks[number]
        if task.status in ("pending", "ready"):
            set_task_status(session, plan, task, "blocked", "a task it depends on failed")


# How an unfinished task reaches `skipped` through the transition table.
_TO_SKIPPED = {
    "pending": ["skipped"],
    "ready": ["skipped"],
    "blocked": ["skipped"],
    "in_progress": ["ready", "skipped"],
    "validating": ["in_progress", "ready", "skipped"],
}


def skip_task(session: Session, plan: Masterplan, task: Task, reason: str) -> None:
    """Skip a task that has not finished (no-op for finished ones)."""
    steps = _TO_SKIPPED.get(task.status, [])
    for status in steps[:-1]:
        move_task(task, status)
    if steps:
        set_task_status(session, plan, task, "skipped", reason)


WaveCounts = dict[tuple[int | None, str], tuple[int, float]]  # (wave, status) -> (tasks, cost)


def refresh_progress(session: Session, plan: Masterplan) -> WaveCounts:
    """Progress counters, percent and actual cost of the plan, recomputed from its tasks.

    Returns the task counts and costs by wave and status it read (close_wave_if_done can use them).
    """
    session.flush()
    rows = session.execute(
        select(Task.wave, Task.status, func.count(), func.coalesce(func.sum(Task.cost_usd), 0.0))
        .where(Task.masterplan_id == plan.id)
        .group_by(Task.wave, Task.status)
    ).all()
    counted: WaveCounts = {(wave, status): (int(count), float(cost)) for wave, status, count, cost in rows}
    counts: dict[str, int] = {}
    for (_, status), (count, _) in counted.items():
        counts[status] = counts.get(status, 0) + count
    cost = sum(spent for _, spent in counted.values())
    plan.completed_tasks = counts.get("completed", 0)
    plan.failed_tasks = counts.get("failed", 0)
    plan.skipped_tasks = counts.get("skipped", 0)
    plan.blocked_tasks = counts.get("blocked", 0)
    finished = plan.completed_tasks + plan.failed_tasks + plan.skipped_tasks + plan.blocked_tasks
    plan.progress_percent = round(100.0 * finished / plan.total_tasks, 2) if plan.total_tasks else 100.0
    plan.actual_cost_usd = round(cost + plan.quality_cost_usd, 6)
    plan.updated_at = datetime.now(UTC)
    return counted


def apply_cost_guardrails(session: Session, plan: Masterplan) -> bool:
    """Warn once past the soft limit; pause past the hard limit. True when the plan was paused here."""
    spent = plan.actual_cost_usd
    if spent >= plan.soft_cost_limit_usd and not plan.cost_warning_sent:
        plan.cost_warning_sent = True
        emit(session, plan, cost_warning(plan, "soft"))
    if spent >= plan.hard_cost_limit_usd and plan.status == "in_progress":
        emit(session, plan, cost_warning(plan, "hard"))
        pause_for_cost(
            session, plan, f"spent ${spent:.4f}, at or over the hard limit ${plan.hard_cost_limit_usd}"
        )
        return True
    return False


def cost_warning(plan: Masterplan, level: str) -> CostWarning:
    return CostWarning(
        current_cost_usd=plan.actual_cost_usd,
        soft_limit_usd=plan.soft_cost_limit_usd,
        hard_limit_usd=plan.hard_cost_limit_usd,
        remaining_budget_usd=round(max(0.0, plan.hard_cost_limit_usd - plan.actual_cost_usd), 6),
        level=level,
    )


def pause_for_cost(session: Session, plan: Masterplan, detail: str) -> None:
    change_plan_status(
        session, plan, "paused", actor=None, action="pause", reason=COST_LIMIT, extra_after={"detail": detail}
    )


def close_wave_if_done(session: Session, plan: Masterplan, counted: WaveCounts | None = None) -> None:
    """Report the current wave complete once none of its tasks can still run (once per wave run).

    `counted` is what refresh_progress returned in this operation, when no task changed since.
    """
    wave = plan.current_wave
    if wave is None:
        return
    if counted is None:
        session.flush()
        rows = session.execute(
            select(Task.status, func.count(), func.coalesce(func.sum(Task.cost_usd), 0.0))
            .where(Task.masterplan_id == plan.id, Task.wave == wave)
            .group_by(Task.status)
        ).all()
        counted = {(wave, status): (int(count), float(cost)) for status, count, cost in rows}
    in_wave = {status: value for (number, status), value in counted.items() if number == wave}
    if any(status not in TERMINAL for status in in_wave):
        return
    stats: dict[str, Any] = {"tasks": sum(count for count, _ in in_wave.values())}
    stats.update(
        {status: in_wave.get(status, (0, 0.0))[0] for status in ("completed", "failed", "blocked", "skipped")}
    )
    stats["cost_usd"] = round(sum(cost for _, cost in in_wave.values()), 6)
    plan.current_wave = None
    emit(session, plan, WaveExecutionComplete(wave_number=wave, stats=stats))
