"""DBOS wiring: one durable executor per process, its system database beside our data.

DBOS is process-global, so the runtime that workflow steps use is registered here at launch.
"""

from __future__ import annotations

import gc
import importlib
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

import psycopg
from dbos import DBOS, DBOSClient, DBOSConfig, SetWorkflowID
from dbos._registrations import get_dbos_func_name
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from masterplan.db import normalize_url
from masterplan.runtime import Runtime

# Modules that declare workflows and steps; imported before launch so DBOS knows them.
WORKFLOW_MODULES: list[str] = [
    "masterplan.generation.workflow",
    "masterplan.conversations.workflow",
    "masterplan.execution.workflow",
]
# Called (as "module:function") with the runtime around launch, and before shutdown.
BEFORE_LAUNCH: list[str] = ["masterplan.execution.control:allow_runs"]
AFTER_LAUNCH: list[str] = [
    "masterplan.execution.control:resume_orphaned_runs",
    "masterplan.workers.leases:take_lease",
]
BEFORE_SHUTDOWN: list[str] = ["masterplan.execution.control:stop_runs"]
# Called with no argument once DBOS stopped (nothing runs or dequeues here any more).
AFTER_SHUTDOWN: list[str] = ["masterplan.workers.leases:release_lease"]
# The queues `masterplan worker` processes listen to; an API-only process enqueues there.
EXECUTION_QUEUE = "masterplan.executions"
GENERATION_QUEUE = "masterplan.generations"
WORKER_QUEUES = (EXECUTION_QUEUE, GENERATION_QUEUE)

DISCONNECT_MESSAGES = ("server closed the connection", "connection", "terminating", "shutdown", "restart")


def is_disconnect(exc: BaseException) -> bool:
    """A lost or refused database connection (e.g. PostgreSQL restarting), as opposed to a wrong query."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError | InterfaceError | psycopg.OperationalError | psycopg.InterfaceError):
        text = str(exc).lower()
        return any(message in text for message in DISCONNECT_MESSAGES)
    return False


# Step options: a step cut off by a lost database connection runs again once the database answers
# (steps are safe to repeat); about a minute in all before the run gives up.
class StepRetry(TypedDict):
    retries_allowed: bool
    max_attempts: int
    interval_seconds: float
    backoff_rate: float
    should_retry: Callable[[BaseException], bool]


RECONNECT: StepRetry = {
    "retries_allowed": True,
    "max_attempts": 12,
    "interval_seconds": 0.5,
    "backoff_rate": 1.5,
    "should_retry": is_disconnect,
}


_current: Runtime | None = None
_executor_id: str | None = None
_queued = False  # this process hands new workflows to the queues instead of running them itself
_client: DBOSClient | None = None  # API-only processes reach DBOS through a client
_client_version = ""


def current_runtime() -> Runtime:
    """The runtime of this process, for code running inside workflows and steps."""
    if _current is None:
        raise RuntimeError("durable execution has not been launched in this process")
    return _current


def is_launched() -> bool:
    return _current is not None


def is_queued() -> bool:
    """Whether this process is a worker: it dequeues from WORKER_QUEUES and enqueues new workflows there."""
    return _current is not None and _queued


def current_executor_id() -> str | None:
    """The DBOS executor id of this process, while durable execution runs here."""
    return _executor_id if _current is not None else None


def system_database_url(runtime: Runtime) -> str:
    """Where DBOS keeps its checkpoints: a SQLite file beside ours, or our PostgreSQL database."""
    settings = runtime.settings
    if settings.is_sqlite:
        return f"sqlite:///{Path(settings.data_dir) / 'dbos_system.sqlite'}"
    return normalize_url(settings.resolved_database_url)


def default_executor_id(runtime: Runtime) -> str:
    """Stable for the embedded default, so a restarted process recovers its own unfinished runs.

    On PostgreSQL several processes share the database, so each gets a unique id unless
    MASTERPLAN_EXECUTOR_ID names it (set a stable one per worker for crash recovery).
    """
    if runtime.settings.executor_id:
        return runtime.settings.executor_id
    if runtime.settings.is_sqlite:
        return "embedded"
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def _hook(target: str) -> Callable[..., Any] | None:
    module_name, _, name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return None
    fn: Callable[..., Any] = getattr(module, name)
    return fn


def launch_durable(
    runtime: Runtime,
    *,
    executor_id: str | None = None,
    recover: bool | None = None,
    queues: tuple[str, ...] | None = None,
) -> None:
    """Configure and launch DBOS for this process; pending runs of this executor resume.

    `recover` (default: when no executor id is given, i.e. a serving process) also starts runs whose
    workflow never started; short-lived CLI processes with their own executor id leave them alone.
    `queues` (workers): dequeue only from these queues, and start new workflows on them too.
    """
    global _current, _executor_id, _queued
    if _current is not None:
        raise RuntimeError("durable execution is already launched in this process")
    for module in WORKFLOW_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    url = system_database_url(runtime)
    if url.startswith("sqlite"):
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("PRAGMA journal_mode=WAL"))
        engine.dispose()
    config: DBOSConfig = {
        "name": "masterplan",
        "system_database_url": url,
        "application_version": runtime.settings.application_version,
        "executor_id": executor_id or default_executor_id(runtime),
        "notification_listener_polling_interval_sec": 0.05,
        "log_level": "WARNING",
    }
    _current, _executor_id, _queued = runtime, config["executor_id"], queues is not None
    try:
        for target in BEFORE_LAUNCH:
            hook = _hook(target)
            if hook is not None:
                hook(runtime)
        DBOS(config=config)
        if queues is not None:
            DBOS.listen_queues(list(queues))
        DBOS.launch()
    except BaseException:
        _current, _executor_id, _queued = None, None, False
        raise
    _settle_memory()
    if recover is False or (recover is None and executor_id is not None):
        return
    for target in AFTER_LAUNCH:
        hook = _hook(target)
        if hook is not None:
            hook(runtime)


def _settle_memory() -> None:
    """Leave what the process made to start out of the garbage collector's full passes.

    Modules, SQLAlchemy and pydantic metadata and DBOS (~300k objects) live as long as the process, and
    every full pass walked them all: ~280 ms with every thread stopped, once or twice in a 120-task run
    on a 2-core machine (benchmarks/execution_bench.py). One collection first, so no garbage is kept.
    """
    gc.collect()
    gc.freeze()


def shutdown_durable(*, drain_seconds: float = 5.0) -> None:
    """Stop starting work, let runs reach a checkpoint (they stay pending and resume later), stop DBOS."""
    global _current
    if _current is None:
        return
    try:
        for target in BEFORE_SHUTDOWN:
            hook = _hook(target)
            if hook is not None:
                hook(drain_seconds)
    finally:
        DBOS.destroy(destroy_registry=False)
        _current, _executor_id, _queued = None, None, False
        for target in AFTER_SHUTDOWN:
            hook = _hook(target)
            if hook is not None:
                hook()


def connect_client(runtime: Runtime) -> None:
    """API-only process (`serve --no-worker`): reach DBOS through a client; workers run the workflows."""
    global _client, _client_version
    if _client is None:
        url = system_database_url(runtime)
        DBOS.migrate(url)  # the client creates no tables; workers may not have started yet
        _client = DBOSClient(system_database_url=url, application_name="masterplan")
        _client_version = runtime.settings.application_version


def disconnect_client() -> None:
    global _client
    if _client is not None:
        _client.destroy()
        _client = None


def readiness() -> str:
    """`ok` when this process can start workflows: it runs them, or reaches the queues the workers read."""
    if _current is not None:
        return "ok"
    if _client is None:
        return "not running"
    try:
        _client.check_connection()
    except Exception as exc:  # any driver error means the queues are out of reach
        return f"unreachable: {type(exc).__name__}"
    return "ok"


@contextmanager
def dbos_client(runtime: Runtime) -> Iterator[DBOSClient]:
    """This process's DBOS client, or a short-lived one (CLI commands)."""
    if _client is not None:
        yield _client
        return
    client = DBOSClient(system_database_url=system_database_url(runtime), application_name="masterplan")
    try:
        yield client
    finally:
        client.destroy()


def start_workflow(fn: Callable[..., Any], workflow_id: str, *args: Any, queue: str) -> None:
    """Start a workflow under its id (starting an id twice runs it once).

    The embedded default runs it in this process. Workers enqueue it on `queue`, and so does an API-only
    process (through its client): whichever worker is free picks it up.
    """
    if _current is not None and not _queued:
        with SetWorkflowID(workflow_id):
            DBOS.start_workflow(fn, *args)
        return
    if _current is not None:
        with SetWorkflowID(workflow_id):
            DBOS.enqueue_workflow(queue, fn, *args)
        return
    if _client is None:
        raise RuntimeError("durable execution is not running in this process")
    _client.enqueue(
        {
            "workflow_name": get_dbos_func_name(fn),
            "queue_name": queue,
            "workflow_id": workflow_id,
            "app_version": _client_version,
        },
        *args,
    )
