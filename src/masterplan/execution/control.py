"""Starting, waking and stopping runs, from this process (DBOS launched) or from a CLI (DBOS client)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import TypeVar

import structlog
from dbos import DBOS
from sqlalchemy import select

from masterplan.durable import EXECUTION_QUEUE, dbos_client, is_launched, start_workflow
from masterplan.execution.atom import stopping
from masterplan.execution.workflow import CONTROL_TOPIC, active_runs, execute_plan, wait_for_runs
from masterplan.llm.pricing import load_prices
from masterplan.models import Masterplan
from masterplan.runtime import Runtime

log = structlog.get_logger(__name__)
T = TypeVar("T")
LIVE = frozenset({"PENDING", "ENQUEUED", "DELAYED"})


def start_run(plan_id: uuid.UUID, execution_id: str) -> None:
    """Start the durable run of a plan under its execution id (returns at once; here or on a worker)."""
    start_workflow(execute_plan, execution_id, str(plan_id), queue=EXECUTION_QUEUE)


def run_status(runtime: Runtime, execution_id: str) -> str | None:
    """DBOS's status of a run (PENDING, SUCCESS, ERROR, ...), None when it was never started."""
    if is_launched():
        found = DBOS.get_workflow_status(execution_id)
        return found.status if found else None
    with dbos_client(runtime) as client:
        try:
            remote: str = client.retrieve_workflow(execution_id).get_status().status
            return remote
        except Exception:
            return None


def nudge(runtime: Runtime, execution_id: str | None) -> None:
    """Wake a run waiting for control (resume, approval, retry); harmless when it is not waiting."""
    if not execution_id:
        return
    try:
        if is_launched():
            DBOS.send(execution_id, "wake", topic=CONTROL_TOPIC)
            return
        with dbos_client(runtime) as client:
            client.send(execution_id, "wake", topic=CONTROL_TOPIC)
    except Exception as exc:  # the state is in the database; a lost wake-up only delays the run
        log.warning("execution_nudge_failed", execution_id=execution_id, error=str(exc))


def resume_orphaned_runs(runtime: Runtime) -> list[str]:
    """At launch: start the runs of running plans whose workflow never started (crash right after execute)."""
    return _off_event_loop(_resume_orphaned_runs, runtime)


def _resume_orphaned_runs(runtime: Runtime) -> list[str]:
    with runtime.reading() as session:
        rows = session.execute(
            select(Masterplan.id, Masterplan.execution_id).where(
                Masterplan.status.in_(("in_progress", "paused")), Masterplan.execution_id.is_not(None)
            )
        ).all()
    started: list[str] = []
    for plan_id, execution_id in rows:
        if execution_id and DBOS.get_workflow_status(execution_id) is None:
            start_run(plan_id, execution_id)
            started.append(execution_id)
    if started:
        log.info("execution_orphans_started", runs=started)
    return started


def allow_runs(_runtime: Runtime) -> None:
    """Before launch: runs may start (again, after a shutdown in this process); prices are loaded."""
    stopping.clear()
    load_prices()


def stop_runs(drain_seconds: float) -> None:
    """Before shutdown: start nothing new, wake waiting runs so they stop, wait for steps in flight.

    Stopped runs stay pending in DBOS; the next launch of this executor resumes them.
    """
    stopping.set()
    _off_event_loop(_wake_all)
    if not wait_for_runs(drain_seconds):
        log.warning("execution_runs_still_active_at_shutdown", runs=active_runs())


def _wake_all() -> None:
    for execution_id in active_runs():
        with suppress(Exception):
            DBOS.send(execution_id, "stop", topic=CONTROL_TOPIC)


def _off_event_loop(fn: Callable[..., T], *args: object) -> T:
    """Run a blocking DBOS call in a worker thread when called from async code (e.g. a lifespan)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()
