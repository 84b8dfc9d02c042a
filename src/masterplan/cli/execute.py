"""`masterplan execute <id>` with a live view, and `pause|resume|cancel <id>`, `retry|approve <id> <task>`.

When a server answers on the configured address, commands go through its API (it runs the work);
otherwise `execute` serves the API in this process for the length of the run (an interrupted run
continues with the next `masterplan serve` or `masterplan execute`), and the control commands change
the database directly and wake the run.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import httpx
import typer
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text
from sqlalchemy import select

from masterplan.auth.tokens import local_token
from masterplan.cli.common import console, local_runtime, local_session, parse_id, readable_errors
from masterplan.cli.render import status_text
from masterplan.config import Settings
from masterplan.durable import is_launched
from masterplan.errors import Conflict, DomainError, NotFound
from masterplan.execution import service
from masterplan.execution.scheduler import TaskView, wave_numbers
from masterplan.logging import configure_logging
from masterplan.models import Masterplan, Task
from masterplan.runtime import Runtime

API = "/api/v1/masterplans"
WATCHING = ("in_progress",)


def server_url(settings: Settings) -> str | None:
    """The base URL of a masterplan server answering on the configured address, if any."""
    base = f"http://{settings.host}:{settings.port}"
    try:
        if httpx.get(f"{base}/api/v1/health", timeout=0.5).status_code == 200:
            return base
    except httpx.HTTPError:
        return None
    return None


@contextmanager
def api(settings: Settings) -> Iterator[tuple[httpx.Client, bool]]:
    """An HTTP client to the running server, or to one served in this process; True when in-process."""
    headers = {"Authorization": f"Bearer {local_token(settings)}"}
    base = server_url(settings)
    if base:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            yield client, False
        return
    from masterplan.cli.server import background_server

    with (
        background_server(settings) as local,
        httpx.Client(base_url=local, headers=headers, timeout=30) as client,
    ):
        yield client, True


def raise_for_error(response: httpx.Response) -> dict[str, Any]:
    """The JSON body, or the API's error as a DomainError (printed by readable_errors)."""
    body: dict[str, Any] = response.json() if response.content else {}
    if response.status_code >= 400:
        error = body.get("error", {})
        kind = (
            NotFound
            if response.status_code == 404
            else Conflict
            if response.status_code == 409
            else DomainError
        )
        raise kind(error.get("message", response.text), code=error.get("code"), details=error.get("details"))
    return body


@readable_errors
def execute(
    plan_id: Annotated[str, typer.Argument(help="Plan id (an approved plan, or one already running).")],
    follow: Annotated[bool, typer.Option(help="Keep watching while the plan is paused.")] = False,
) -> None:
    """Build an approved plan: waves of tasks in parallel, one git commit per task, shown live."""
    pid = parse_id(plan_id)
    settings = Settings()
    configure_logging("warning", json_logs=False)  # the live view is the output
    with local_runtime(settings) as runtime, api(settings) as (client, in_process):
        status = _plan(runtime, pid).status
        if status == "approved":
            started = raise_for_error(client.post(f"{API}/{pid}/execute"))
            console.print(f"execution {started['execution_id']} in {started['workspace_path']}")
        elif status not in ("in_progress", "paused"):
            raise Conflict(
                f"only approved plans can be executed; this plan is {status!r}", code="invalid_status"
            )
        try:
            final = watch(runtime, pid, follow=follow)
        except KeyboardInterrupt:
            where = "on the server" if not in_process else "with `masterplan serve` or `masterplan execute`"
            console.print(f"\nstopped watching; the run continues {where}")
            return
    console.print(
        f"plan {status_text(final.status)}" + (f" ({final.status_reason})" if final.status_reason else "")
    )
    if final.status == "paused":
        console.print(f"continue with: masterplan resume {pid}")


def watch(runtime: Runtime, plan_id: uuid.UUID, *, follow: bool = False) -> Masterplan:
    """Show waves, tasks and cost live until the plan stops running; returns its final row."""
    with Live(console=console, refresh_per_second=4, transient=False) as live:
        while True:
            plan, tasks = _snapshot(runtime, plan_id)
            live.update(view(plan, tasks))
            if plan.status not in WATCHING and not (follow and plan.status == "paused"):
                return plan
            time.sleep(0.25)


def view(plan: Masterplan, tasks: list[Task]) -> Group:
    """The live view: a header line, one row per wave, the tasks running now."""
    header = Text.from_markup(
        f"[bold]{plan.project_name}[/bold]  {status_text(plan.status)}"
        f"{f' ({plan.status_reason})' if plan.status_reason else ''}  "
        f"{plan.completed_tasks}/{plan.total_tasks} done, {plan.failed_tasks} failed, "
        f"{plan.blocked_tasks} blocked  {plan.progress_percent:.0f}%  "
        f"cost ${plan.actual_cost_usd:.4f} (soft ${plan.soft_cost_limit_usd:g}, hard ${plan.hard_cost_limit_usd:g})"
    )
    waves = Table("wave", "tasks", "done", "failed", "running", "waiting", box=None, pad_edge=False)
    by_wave: dict[int, list[Task]] = {}
    levels = wave_numbers(task_views_of(tasks))
    for task in tasks:
        by_wave.setdefault(levels.get(task.task_number, 0), []).append(task)
    for number in sorted(by_wave):
        members = by_wave[number]
        count = {s: sum(1 for t in members if t.status == s) for s in ("completed", "failed")}
        busy = sum(1 for t in members if t.status in ("in_progress", "validating"))
        waiting = sum(1 for t in members if t.status in ("pending", "ready"))
        marker = " <" if plan.current_wave == number else ""
        waves.add_row(
            f"{number}{marker}",
            str(len(members)),
            str(count["completed"]),
            str(count["failed"]),
            str(busy),
            str(waiting),
        )
    running = Table("task", "status", "name", "attempt", box=None, pad_edge=False)
    for task in tasks:
        if task.status in ("in_progress", "validating"):
            running.add_row(
                f"#{task.task_number}", status_text(task.status), task.name, str(task.retry_count + 1)
            )
    failures = [f"#{t.task_number}: {(t.last_error or '')[:100]}" for t in tasks if t.status == "failed"]
    parts: list[Any] = [header, waves, running]
    if failures:
        parts.append(Text("failed: " + "; ".join(failures[:5]), style="red"))
    return Group(*parts)


def task_views_of(tasks: list[Task]) -> dict[int, TaskView]:
    return {t.task_number: TaskView(t.task_number, t.status, tuple(t.depends_on)) for t in tasks}


def _snapshot(runtime: Runtime, plan_id: uuid.UUID) -> tuple[Masterplan, list[Task]]:
    with runtime.reading() as session:
        plan = session.get(Masterplan, plan_id)
        if plan is None:
            raise NotFound(f"masterplan {plan_id} not found", code="masterplan_not_found")
        tasks = list(
            session.scalars(select(Task).where(Task.masterplan_id == plan_id).order_by(Task.task_number))
        )
        session.expunge_all()
        return plan, tasks


def _plan(runtime: Runtime, plan_id: uuid.UUID) -> Masterplan:
    return _snapshot(runtime, plan_id)[0]


def _control(action: str, plan_id: str, task_number: int | None = None, reason: str | None = None) -> None:
    pid = parse_id(plan_id)
    settings = Settings()
    base = server_url(settings)
    with local_runtime(settings) as runtime:
        task_id = _task_id(runtime, pid, task_number) if task_number is not None else None
        if base:
            headers = {"Authorization": f"Bearer {local_token(settings)}"}
            path = f"{API}/{pid}/tasks/{task_id}/{action}" if task_id else f"{API}/{pid}/{action}"
            body = raise_for_error(
                httpx.post(f"{base}{path}", json={"reason": reason}, headers=headers, timeout=30)
            )
            console.print(f"{action}: {status_text(body['status'])}")
            return
        after = _local_action(runtime, action, pid, task_id, reason)
        if after.start_execution_id and not is_launched():
            console.print(
                f"run {after.start_execution_id} starts with the next `masterplan serve` or `masterplan execute {pid}`"
            )
        else:
            after.run(runtime)
        console.print(f"{action}: plan {status_text(after.plan.status)}")


def _local_action(
    runtime: Runtime, action: str, plan_id: uuid.UUID, task_id: uuid.UUID | None, reason: str | None
) -> service.AfterCommit:
    with local_session(runtime) as (session, user):
        if action == "pause":
            return service.pause(session, user, plan_id, reason, None)
        if action == "resume":
            return service.resume(session, runtime, user, plan_id, reason, None)
        if action == "cancel":
            return service.cancel(session, runtime, user, plan_id, reason, None)
        assert task_id is not None
        if action == "retry":
            return service.retry_task(session, runtime, user, plan_id, task_id, None)
        return service.approve_task(session, runtime, user, plan_id, task_id, None)


def _task_id(runtime: Runtime, plan_id: uuid.UUID, number: int) -> uuid.UUID:
    with runtime.reading() as session:
        task_id = session.scalar(
            select(Task.id).where(Task.masterplan_id == plan_id, Task.task_number == number)
        )
    if task_id is None:
        raise NotFound(f"masterplan {plan_id} has no task {number}", code="task_not_found")
    return task_id


Reason = Annotated[str | None, typer.Option(help="Why (kept in the audit history).")]
PlanId = Annotated[str, typer.Argument(help="Plan id.")]
TaskNumber = Annotated[int, typer.Argument(help="Task number in the plan.")]


@readable_errors
def pause(plan_id: PlanId, reason: Reason = None) -> None:
    """Finish the tasks in flight and start no new ones."""
    _control("pause", plan_id, reason=reason)


@readable_errors
def resume(plan_id: PlanId, reason: Reason = None) -> None:
    """Continue a paused plan."""
    _control("resume", plan_id, reason=reason)


@readable_errors
def cancel(plan_id: PlanId, reason: Reason = None) -> None:
    """Start nothing more; tasks not yet running are skipped."""
    _control("cancel", plan_id, reason=reason)


@readable_errors
def retry(plan_id: PlanId, task_number: TaskNumber) -> None:
    """Run a failed task again, then its blocked dependents."""
    _control("retry", plan_id, task_number)


@readable_errors
def approve_task(plan_id: PlanId, task_number: TaskNumber) -> None:
    """Let a task of a manual plan run."""
    _control("approve", plan_id, task_number)


def register(app: typer.Typer) -> None:
    """Add the execution commands to the main CLI."""
    app.command()(execute)
    app.command()(pause)
    app.command()(resume)
    app.command()(cancel)
    app.command()(retry)
    app.command("approve-task")(approve_task)
