"""DBOS wiring: one durable executor per process, its system database beside our data.

DBOS is process-global, so the runtime that workflow steps use is registered here at launch.
"""

from __future__ import annotations

import importlib
import os
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dbos import DBOS, DBOSConfig
from sqlalchemy import create_engine, text

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
AFTER_LAUNCH: list[str] = ["masterplan.execution.control:resume_orphaned_runs"]
BEFORE_SHUTDOWN: list[str] = ["masterplan.execution.control:stop_runs"]

_current: Runtime | None = None


def current_runtime() -> Runtime:
    """The runtime of this process, for code running inside workflows and steps."""
    if _current is None:
        raise RuntimeError("durable execution has not been launched in this process")
    return _current


def is_launched() -> bool:
    return _current is not None


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


def launch_durable(runtime: Runtime, *, executor_id: str | None = None, recover: bool | None = None) -> None:
    """Configure and launch DBOS for this process; pending runs of this executor resume.

    `recover` (default: when no executor id is given, i.e. a serving process) also starts runs whose
    workflow never started; short-lived CLI processes with their own executor id leave them alone.
    """
    global _current
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
    _current = runtime
    try:
        for target in BEFORE_LAUNCH:
            hook = _hook(target)
            if hook is not None:
                hook(runtime)
        DBOS(config=config)
        DBOS.launch()
    except BaseException:
        _current = None
        raise
    if recover is False or (recover is None and executor_id is not None):
        return
    for target in AFTER_LAUNCH:
        hook = _hook(target)
        if hook is not None:
            hook(runtime)


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
        _current = None
