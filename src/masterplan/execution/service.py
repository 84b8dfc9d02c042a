"""Rules of execution control: execute, pause, resume, cancel, retry, approve, cost limits.

Services change rows in the caller's transaction and never commit. What must happen after the commit
(start a run, wake a waiting run) is returned as an `AfterCommit` for the edge to carry out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.config import Settings
from masterplan.errors import Conflict, NotFound, PlanValidationError
from masterplan.events.schemas import MasterplanExecutionStart
from masterplan.execution import control, state
from masterplan.execution.schemas import CostLimitsUpdate
from masterplan.models import Masterplan, Task, User
from masterplan.plans import repository
from masterplan.plans.audit import record_history
from masterplan.plans.graph import dependents_closure
from masterplan.plans.service import change_plan_status
from masterplan.runtime import Runtime
from masterplan.workspace import Workspace, create_workspace

RUNNING = ("in_progress", "paused")


@dataclass
class AfterCommit:
    """Side effects to carry out once the transaction committed."""

    plan: Masterplan
    start_execution_id: str | None = None
    wake_execution_id: str | None = None
    workspace: Workspace | None = None

    def run(self, runtime: Runtime) -> None:
        if self.start_execution_id:
            control.start_run(self.plan.id, self.start_execution_id)
        elif self.wake_execution_id:
            control.nudge(runtime, self.wake_execution_id)


def start_execution(
    session: Session, user: User, plan_id: uuid.UUID, settings: Settings, client_address: str | None = None
) -> AfterCommit:
    """Create the workspace, move an approved plan to in_progress and name its run."""
    plan = repository.get_plan(session, user, plan_id, for_update=True)
    if plan.status in RUNNING and plan.execution_id:
        raise Conflict(
            f"masterplan {plan.id} is already executing as {plan.execution_id}",
            code="already_executing",
            details={"execution_id": plan.execution_id, "status": plan.status},
        )
    if plan.status != "approved":
        raise Conflict(
            f"only approved plans can be executed; this plan is {plan.status!r}",
            code="invalid_status",
            details={"current_status": plan.status},
        )
    workspace = create_workspace(settings.resolved_workspaces_dir, plan.project_name)
    plan.execution_id = str(uuid.uuid4())
    plan.workspace_id, plan.workspace_path = workspace.id, str(workspace.path)
    change_plan_status(
        session,
        plan,
        "in_progress",
        actor=user,
        action="execute",
        client_address=client_address,
        extra_after={"execution_id": plan.execution_id, "workspace_path": plan.workspace_path},
    )
    state.emit(
        session,
        plan,
        MasterplanExecutionStart(
            workspace_id=workspace.id, workspace_path=str(workspace.path), total_tasks=plan.total_tasks
        ),
    )
    session.flush()
    return AfterCommit(plan, start_execution_id=plan.execution_id, workspace=workspace)


def pause(
    session: Session, user: User, plan_id: uuid.UUID, reason: str | None, client: str | None
) -> AfterCommit:
    """Finish the tasks in flight, start no new ones."""
    plan = repository.get_plan(session, user, plan_id, for_update=True)
    change_plan_status(
        session,
        plan,
        "paused",
        actor=user,
        action="pause",
        reason=reason or "paused by user",
        client_address=client,
    )
    return AfterCommit(plan)


def resume(
    session: Session, runtime: Runtime, user: User, plan_id: uuid.UUID, reason: str | None, client: str | None
) -> AfterCommit:
    """Continue a paused plan; refused while its spending is at or over the hard limit."""
    plan = repository.get_plan(session, user, plan_id, for_update=True)
    if plan.status == "paused" and plan.actual_cost_usd >= plan.hard_cost_limit_usd:
        raise Conflict(
            f"spent ${plan.actual_cost_usd:.4f} of a ${plan.hard_cost_limit_usd} hard limit: "
            "raise the limit (PATCH .../cost-limits) before resuming",
            code="cost_limit",
        )
    change_plan_status(
        session, plan, "in_progress", actor=user, action="resume", reason=reason, client_address=client
    )
    return continue_run(session, runtime, plan)


def cancel(
    session: Session, runtime: Runtime, user: User, plan_id: uuid.UUID, reason: str | None, client: str | None
) -> AfterCommit:
    """Start nothing more; tasks not yet running are skipped and the plan is cancelled."""
    plan = repository.get_plan(session, user, plan_id, for_update=True)
    change_plan_status(
        session,
        plan,
        "cancelled",
        actor=user,
        action="cancel",
        reason=reason or "cancelled by user",
        client_address=client,
    )
    live = bool(plan.execution_id) and control.run_status(runtime, plan.execution_id or "") in control.LIVE
    for task in state.tasks_of(session, plan.id).values():
        # Tasks in flight finish on their own when a run is alive; otherwise nobody will finish them.
        if task.status in ("pending", "ready", "blocked") or not live:
            state.skip_task(session, plan, task, "the plan was cancelled")
    state.refresh_progress(session, plan)
    return AfterCommit(plan, wake_execution_id=plan.execution_id if live else None)


def retry_task(
    session: Session, runtime: Runtime, user: User, plan_id: uuid.UUID, task_id: uuid.UUID, client: str | None
) -> AfterCommit:
    """Run a failed task again (then its blocked dependents); a completed plan goes back to in_progress."""
    plan = repository.get_plan(session, user, plan_id, for_update=True)
    if plan.status not in ("in_progress", "paused", "completed"):
        raise Conflict(
            f"tasks can be retried while the plan is in_progress, paused or completed; it is {plan.status!r}",
            code="invalid_status",
        )
    task = _task(session, plan, task_id)
    if task.status != "failed":
        raise Conflict(
            f"only failed tasks can be retried; task {task.task_number} is {task.status!r}",
            code="invalid_status",
        )
    before = {"status": task.status, "retry_count": task.retry_count, "last_error": task.last_error}
    task.retry_count = 0
    task.validation_passed = None
    task.completed_at = None
    state.set_task_status(session, plan, task, "ready", "retry requested")
    tasks = state.tasks_of(session, plan.id)
    graph = {n: t.depends_on for n, t in tasks.items()}
    for number in sorted(dependents_closure(graph, [task.task_number])):
        if tasks[number].status == "blocked":
            state.set_task_status(
                session, plan, tasks[number], "pending", f"task {task.task_number} is retried"
            )
    record_history(
        session,
        actor=user,
        action="retry_task",
        masterplan_id=plan.id,
        target_type="task",
        target_id=str(task.id),
        before=before,
        after={"status": "ready"},
        client_address=client,
        trace_id=plan.trace_id,
    )
    reopened = plan.status == "completed"
    if reopened:
        plan.completed_at = None
        change_plan_status(
            session,
            plan,
            "in_progress",
            actor=user,
            action="reopen",
            reason=f"retry of task {task.task_number}",
        )
    state.refresh_progress(session, plan)
    if plan.status == "paused":
        return AfterCommit(plan)
    # The run of a completed plan decided to end, even if DBOS has not recorded its end yet.
    return new_run(session, plan) if reopened else continue_run(session, runtime, plan)


def approve_task(
    session: Session, runtime: Runtime, user: User, plan_id: uuid.UUID, task_id: uuid.UUID, client: str | None
) -> AfterCommit:
    """Let a task of a manual plan (or phase) run."""
    plan = repository.get_plan(session, user, plan_id, for_update=True)
    if plan.status not in ("approved", *RUNNING):
        raise Conflict(
            f"tasks can be approved before or during execution; the plan is {plan.status!r}",
            code="invalid_status",
        )
    task = _task(session, plan, task_id)
    if task.status not in ("pending", "ready", "blocked"):
        raise Conflict(
            f"task {task.task_number} is {task.status!r}: nothing to approve", code="invalid_status"
        )
    task.approved_to_run = True
    record_history(
        session,
        actor=user,
        action="approve_task",
        masterplan_id=plan.id,
        target_type="task",
        target_id=str(task.id),
        after={"approved_to_run": True},
        client_address=client,
        trace_id=plan.trace_id,
    )
    return AfterCommit(plan, wake_execution_id=plan.execution_id if plan.status == "in_progress" else None)


def update_cost_limits(
    session: Session, user: User, plan_id: uuid.UUID, update: CostLimitsUpdate, client: str | None
) -> Masterplan:
    """Change the soft and hard limits of a draft, approved or paused plan."""
    plan = repository.get_plan(session, user, plan_id, for_update=True)
    if plan.status not in ("draft", "approved", "paused"):
        raise Conflict(
            f"cost limits can change while the plan is draft, approved or paused; it is {plan.status!r}",
            code="invalid_status",
        )
    soft = update.soft_cost_limit_usd or plan.soft_cost_limit_usd
    hard = update.hard_cost_limit_usd or plan.hard_cost_limit_usd
    if soft > hard:
        raise PlanValidationError([f"soft cost limit ${soft} is above the hard limit ${hard}"])
    before = {
        "soft_cost_limit_usd": plan.soft_cost_limit_usd,
        "hard_cost_limit_usd": plan.hard_cost_limit_usd,
    }
    if soft > plan.soft_cost_limit_usd and plan.actual_cost_usd < soft:
        plan.cost_warning_sent = False
    plan.soft_cost_limit_usd, plan.hard_cost_limit_usd = soft, hard
    plan.updated_at = datetime.now(UTC)
    record_history(
        session,
        actor=user,
        action="update_cost_limits",
        masterplan_id=plan.id,
        before=before,
        after={"soft_cost_limit_usd": soft, "hard_cost_limit_usd": hard},
        client_address=client,
        trace_id=plan.trace_id,
    )
    return plan


def continue_run(session: Session, runtime: Runtime, plan: Masterplan) -> AfterCommit:
    """Wake the plan's run when it is alive; otherwise name a new run to start after commit."""
    if plan.execution_id and control.run_status(runtime, plan.execution_id) in control.LIVE:
        return AfterCommit(plan, wake_execution_id=plan.execution_id)
    return new_run(session, plan)


def new_run(session: Session, plan: Masterplan) -> AfterCommit:
    """Name a new run of the plan (the execution id changes), to start after commit."""
    plan.execution_id = str(uuid.uuid4())
    session.flush()
    return AfterCommit(plan, start_execution_id=plan.execution_id)


def _task(session: Session, plan: Masterplan, task_id: uuid.UUID) -> Task:
    task = session.scalars(
        select(Task).where(Task.id == task_id, Task.masterplan_id == plan.id)
    ).one_or_none()
    if task is None:
        raise NotFound(f"task {task_id} not found in masterplan {plan.id}", code="task_not_found")
    return task


_continue_run = continue_run  # the name review.regeneration imported first
