"""The workflow's bookkeeping steps: decide the next batch, close a wave, finish or fail the run."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.orm import Session

from masterplan.errors import ConfigurationError
from masterplan.events.schemas import WaveExecutionStart
from masterplan.execution import state
from masterplan.execution.phase_pause import PHASE_PAUSE, pause_after_finished_phase
from masterplan.execution.scheduler import decide
from masterplan.execution.writer import write
from masterplan.llm import configured_name, price_usd
from masterplan.models import Masterplan
from masterplan.plans.estimates import TOKENS_IN, TOKENS_OUT
from masterplan.plans.service import change_plan_status
from masterplan.plans.transitions import move_task
from masterplan.runtime import Runtime
from masterplan.workspace.git import GitError, sync_index

log = structlog.get_logger(__name__)


def estimated_cost(complexities: list[str], runtime: Runtime) -> float:
    """What running tasks of these complexities is expected to cost with the configured coder models
    (0 when unknown)."""
    total = 0.0
    for complexity in complexities:
        try:
            name = configured_name("coder", runtime.settings, complexity=complexity)
            price = price_usd(name, TOKENS_IN.get(complexity, 4000), TOKENS_OUT.get(complexity, 1800))
        except ConfigurationError:
            price = None
        total += price or 0.0
    return total


def next_decision(runtime: Runtime, plan_id: uuid.UUID, *, reviewed: bool = False) -> dict[str, Any]:
    """Decide and record what runs next: tasks of a wave, a wait (paused, approval), or the end.

    A run that has nothing left to run first gets `review` (unless `reviewed`): the completion reviews
    are queued before the plan reads completed, so whoever sees it completed finds them.
    """
    decided = write(runtime, lambda session: _decide(session, runtime, plan_id, reviewed))
    if decided["action"] == "wait":
        sync_workspace(runtime, plan_id)
    return decided


def _decide(session: Session, runtime: Runtime, plan_id: uuid.UUID, reviewed: bool) -> dict[str, Any]:
    plan = state.lock_plan(session, plan_id)
    views, shape = state.snapshot(session, plan)
    decision = decide(views, plan.status, shape.wave_of)
    if decision.block:
        state.block_tasks(
            session, plan, state.tasks_numbered(session, plan_id, decision.block), decision.block
        )
    state.close_wave_if_done(session, plan)
    statuses = {n: "blocked" if n in decision.block else v.status for n, v in views.items()}
    if decision.action != "finish" and pause_after_finished_phase(session, plan, statuses):
        state.refresh_progress(session, plan)
        return {"action": "wait", "reason": PHASE_PAUSE}
    if decision.action == "finish" and plan.status == "in_progress" and not reviewed:
        if decision.block:
            state.refresh_progress(session, plan)
        return {"action": "review"}
    if decision.action == "finish":
        _finish(session, plan)
        return {"action": "finish", "reason": plan.status}
    if decision.action == "wait":
        if decision.block:
            state.refresh_progress(session, plan)
        return {"action": "wait", "reason": decision.reason}
    assert decision.wave is not None
    waiting = [n for n in decision.tasks if views[n].status in ("pending", "ready")]
    expected = estimated_cost([shape.complexity[n] for n in waiting], runtime)
    if plan.actual_cost_usd + expected > plan.hard_cost_limit_usd:
        state.emit(session, plan, state.cost_warning(plan, "hard"))
        state.pause_for_cost(
            session,
            plan,
            f"spent ${plan.actual_cost_usd:.4f} + about ${expected:.4f} for wave {decision.wave} "
            f"would pass the hard limit ${plan.hard_cost_limit_usd}",
        )
        return {"action": "wait", "reason": state.COST_LIMIT}
    if plan.current_wave != decision.wave:
        plan.current_wave = decision.wave
        in_wave = sum(1 for n in views if shape.wave_of[n] == decision.wave)
        state.emit(session, plan, WaveExecutionStart(wave_number=decision.wave, total_atoms=in_wave))
    # The tasks that start at once are claimed here, in one transaction and one statement, not one each.
    moved: list[state.TaskFacts] = []
    for index, number in enumerate(decision.tasks):
        if views[number].status not in ("pending", "ready"):
            continue  # claimed by a run that crashed: it carries on
        task = state.TaskFacts(shape.ids[number], number, shape.names[number], views[number].status)
        claim = index < runtime.settings.parallelism
        if task.status == "ready" and not claim:
            continue
        if task.status == "pending":
            move_task(task, "ready")
            if not claim:
                state.emit_task_status(session, plan, task)
        if claim:
            state.claim_task(session, plan, task, shape.max_retries[number])
        moved.append(task)
    state.store_statuses(session, moved)
    if decision.block:  # claiming changes no counter (nothing finished, nothing was spent)
        state.refresh_progress(session, plan)
    return {"action": "run", "wave": decision.wave, "tasks": list(decision.tasks)}


def _finish(session: Session, plan: Masterplan) -> None:
    if plan.status == "cancelled":
        for task in state.tasks_of(session, plan.id).values():
            state.skip_task(session, plan, task, "the plan was cancelled")
    state.refresh_progress(session, plan)
    # Before the plan reads completed: whoever sees it completed finds the workspace clean.
    _sync_index(plan.workspace_path)
    if plan.status == "in_progress":
        plan.current_wave = None
        change_plan_status(session, plan, "completed", actor=None, action="execution_completed")


def sync_workspace(runtime: Runtime, plan_id: uuid.UUID) -> None:
    """Point the workspace's git index at HEAD (commits bypass it), so `git status` there is clean."""
    with runtime.reading() as session:
        plan = session.get(Masterplan, plan_id)
        workspace = plan.workspace_path if plan else None
    _sync_index(workspace)


def _sync_index(workspace: str | None) -> None:
    if workspace and Path(workspace).is_dir():
        try:
            sync_index(Path(workspace))
        except GitError as exc:  # cosmetic: the commits are already in place
            log.warning("workspace_index_sync_failed", error=str(exc))


def fail_run(runtime: Runtime, plan_id: uuid.UUID, error: str) -> None:
    """An unexpected error stopped the run: the plan is marked failed with the reason."""

    def op(session: Session) -> None:
        plan = state.lock_plan(session, plan_id)
        if plan.status in ("in_progress", "paused"):
            change_plan_status(
                session, plan, "failed", actor=None, action="execution_failed", reason=error[:2000]
            )

    write(runtime, op)
