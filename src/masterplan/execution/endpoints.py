"""Execution endpoints: execute, pause, resume, cancel, retry and approve tasks, cost limits, task files."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.deps import ClientAddress, CurrentUser, RuntimeDep, SessionDep
from masterplan.errors import NotFound
from masterplan.execution import service
from masterplan.execution.schemas import (
    ControlRequest,
    CostLimitsUpdate,
    ExecuteResponse,
    ExecutionState,
    TaskDiff,
    TaskFile,
    TaskState,
)
from masterplan.models import Task, User
from masterplan.plans import repository
from masterplan.runtime import Runtime
from masterplan.workspace import read_files, workspace_root
from masterplan.workspace.git import GitError, commit_diff
from masterplan.workspace.service import remove_workspace

router = APIRouter(prefix="/masterplans", tags=["execution"])


def _carry_out(session: Session, runtime: Runtime, after: service.AfterCommit) -> None:
    # The run reads the rows this request changed: they must be stored before it starts or wakes.
    try:
        session.commit()
    except BaseException:
        if after.workspace is not None:
            remove_workspace(after.workspace)
        raise
    after.run(runtime)


@router.post("/{plan_id}/execute", status_code=status.HTTP_202_ACCEPTED, response_model=ExecuteResponse)
def execute(
    plan_id: uuid.UUID, session: SessionDep, runtime: RuntimeDep, user: CurrentUser, client: ClientAddress
) -> ExecuteResponse:
    """Start building an approved plan in a new git workspace; returns at once, the run goes on in the
    background. 409 when the plan is not approved or already executing (the body names the run)."""
    after = service.start_execution(session, user, plan_id, runtime.settings, client)
    plan = after.plan
    response = ExecuteResponse(
        execution_id=plan.execution_id or "",
        workspace_id=plan.workspace_id or "",
        workspace_path=plan.workspace_path or "",
        total_tasks=plan.total_tasks,
    )
    _carry_out(session, runtime, after)
    return response


@router.post("/{plan_id}/pause", response_model=ExecutionState)
def pause(
    plan_id: uuid.UUID,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    client: ClientAddress,
    body: ControlRequest | None = None,
) -> ExecutionState:
    """Finish the tasks in flight and start no new ones."""
    after = service.pause(session, user, plan_id, (body or ControlRequest()).reason, client)
    _carry_out(session, runtime, after)
    return ExecutionState.model_validate(after.plan)


@router.post("/{plan_id}/resume", response_model=ExecutionState)
def resume(
    plan_id: uuid.UUID,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    client: ClientAddress,
    body: ControlRequest | None = None,
) -> ExecutionState:
    """Continue a paused plan (409 while spending is at or over the hard limit)."""
    after = service.resume(session, runtime, user, plan_id, (body or ControlRequest()).reason, client)
    _carry_out(session, runtime, after)
    return ExecutionState.model_validate(after.plan)


@router.post("/{plan_id}/cancel", response_model=ExecutionState)
def cancel(
    plan_id: uuid.UUID,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    client: ClientAddress,
    body: ControlRequest | None = None,
) -> ExecutionState:
    """Start nothing more: tasks not yet running are skipped and the plan is cancelled."""
    after = service.cancel(session, runtime, user, plan_id, (body or ControlRequest()).reason, client)
    _carry_out(session, runtime, after)
    return ExecutionState.model_validate(after.plan)


@router.patch("/{plan_id}/cost-limits", response_model=ExecutionState)
def update_cost_limits(
    plan_id: uuid.UUID, body: CostLimitsUpdate, session: SessionDep, user: CurrentUser, client: ClientAddress
) -> ExecutionState:
    """Change the soft and hard cost limits of a draft, approved or paused plan."""
    plan = service.update_cost_limits(session, user, plan_id, body, client)
    return ExecutionState.model_validate(plan)


@router.post("/{plan_id}/tasks/{task_id}/retry", response_model=TaskState)
def retry_task(
    plan_id: uuid.UUID,
    task_id: uuid.UUID,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    client: ClientAddress,
) -> TaskState:
    """Run a failed task again, then its blocked dependents; a completed plan goes back to in_progress."""
    after = service.retry_task(session, runtime, user, plan_id, task_id, client)
    task = _task(session, user, plan_id, task_id)
    _carry_out(session, runtime, after)
    return TaskState.model_validate(task)


@router.post("/{plan_id}/tasks/{task_id}/approve", response_model=TaskState)
def approve_task(
    plan_id: uuid.UUID,
    task_id: uuid.UUID,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    client: ClientAddress,
) -> TaskState:
    """Let a task of a manual plan (or phase) run."""
    after = service.approve_task(session, runtime, user, plan_id, task_id, client)
    task = _task(session, user, plan_id, task_id)
    _carry_out(session, runtime, after)
    return TaskState.model_validate(task)


@router.get("/{plan_id}/tasks/{task_id}/files", response_model=list[TaskFile])
def task_files(
    plan_id: uuid.UUID, task_id: uuid.UUID, session: SessionDep, user: CurrentUser
) -> list[TaskFile]:
    """The current content of the task's files in the workspace (those that exist)."""
    task = _task(session, user, plan_id, task_id)
    plan = repository.get_plan(session, user, plan_id)
    root = workspace_root(plan.workspace_path)
    paths = list(dict.fromkeys([*task.target_files, *task.modified_files]))
    return [TaskFile(path=p, content=c) for p, c in read_files(root, paths)]


@router.get("/{plan_id}/tasks/{task_id}/diff", response_model=TaskDiff)
def task_diff(plan_id: uuid.UUID, task_id: uuid.UUID, session: SessionDep, user: CurrentUser) -> TaskDiff:
    """The patch of the task's commit (empty when it has not committed)."""
    task = _task(session, user, plan_id, task_id)
    plan = repository.get_plan(session, user, plan_id)
    diff = ""
    if task.commit_sha:
        try:
            diff = commit_diff(workspace_root(plan.workspace_path), task.commit_sha)
        except GitError as exc:
            raise NotFound(
                f"commit {task.commit_sha} is not in the workspace: {exc}", code="commit_not_found"
            ) from None
    return TaskDiff(task_number=task.task_number, commit_sha=task.commit_sha, diff=diff)


def _task(session: Session, user: User, plan_id: uuid.UUID, task_id: uuid.UUID) -> Task:
    repository.get_plan(session, user, plan_id)
    task = session.scalars(
        select(Task).where(Task.id == task_id, Task.masterplan_id == plan_id)
    ).one_or_none()
    if task is None:
        raise NotFound(f"task {task_id} not found in masterplan {plan_id}", code="task_not_found")
    return task
