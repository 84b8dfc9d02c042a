"""DBOS wiring: one durable executor per process, its system database beside our data.

DBOS is process-global, so the runtime that workflow steps use is registered here at launch.
"""

from __future__ import annotations

import importlib
import os
import socket
import uuid
from pathlib import Path

from dbos import DBOS, DBOSConfig
from sqlalchemy import create_engine, text

from masterplan.db import normalize_url
from masterplan.runtime import Runtime

# Modules that declare workflows and steps; imported before launch so DBOS knows them.
WORKFLOW_MODULES: list[str] = [
    "masterplan.generation.workflow",
    "masterplan.execution.workflow",
]

_current: Runtime | None = None


def current_runtime() -> Runtime:
    """The runtime of this process, for code running inside workflows and steps."""
    if _current is None:
        raise RuntimeError("durable execution has not been launched in this process")
    return _current


def system_database_url(runtime: Runtime) -> str:
    settings = runtime.settings
    if settings.is_sqlite:
        return f"sqlite:///{Path(settings.data_dir) / 'dbos_system.sqlite'}"
    return normalize_url(settings.resolved_database_url)


def default_executor_id(runtime: Runtime) -> str:
    """Stable for the embedded default, so a restarted process recovers its own unfinished runs."""
    if runtime.settings.executor_id:
        return runtime.settings.executor_id
    if runtime.settings.is_sqlite:
        return "embedded"
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def launch_durable(runtime: Runtime, *, executor_id: str | None = None) -> None:
    """Configure and launch DBOS for this process; pending workflows of this executor resume."""
    global _current
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
        "notification_listener_polling_interval_sec": 0.1,
        "log_level": "WARNING",
    }
    _current = runtime
    DBOS(config=config)
    DBOS.launch()


def shutdown_durable() -> None:
    global _current
    DBOS.destroy(destroy_registry=False)
    _current = None
