"""`masterplan worker`: run plan executions and generations from the DBOS queues; serves no HTTP."""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from masterplan.cli.common import err_console, readable_errors
from masterplan.config import Settings


@readable_errors
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(help="Executions (and generations) run at once (MASTERPLAN_WORKER_CONCURRENCY)."),
    ] = None,
    drain_seconds: Annotated[
        float, typer.Option(help="On SIGTERM/SIGINT: how long tasks in flight may take to finish.")
    ] = 30.0,
) -> None:
    """Run executions and generations from the queues (start any number, on any machine, on PostgreSQL).

    The first SIGTERM or SIGINT stops starting tasks, lets those in flight finish and hands the stopped
    runs back to the other workers; a second one exits at once (the runs are then recovered as after a crash).
    """
    from masterplan.logging import configure_logging
    from masterplan.observability.tracing import configure_tracing
    from masterplan.runtime import build_runtime
    from masterplan.workers.runner import run_until

    overrides = {"worker_concurrency": concurrency} if concurrency else {}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    configure_logging()
    configure_tracing(settings, role="worker")
    if settings.is_sqlite:
        err_console.print(
            "[yellow]warning:[/yellow] workers share work through the database; with SQLite they are "
            "limited to this machine. Set MASTERPLAN_DATABASE_URL to a PostgreSQL database to scale out."
        )
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            os._exit(128 + signum)  # a second signal: leave now; the lease expires and peers recover
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runtime = build_runtime(settings)
    try:
        run_until(runtime, stop, drain_seconds=drain_seconds)
    finally:
        runtime.close()
