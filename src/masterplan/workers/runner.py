"""A worker process: DBOS listening to the worker queues, no HTTP; a graceful stop hands its work back."""

from __future__ import annotations

import os
import socket
import threading
import uuid

import structlog
from dbos import DBOS

from masterplan.config import Settings
from masterplan.durable import (
    EXECUTION_QUEUE,
    GENERATION_QUEUE,
    WORKER_QUEUES,
    launch_durable,
    shutdown_durable,
)
from masterplan.runtime import Runtime

log = structlog.get_logger(__name__)

QUEUE_POLL_SECONDS = 0.25  # pick-up delay vs. idle cost: each poll is a transaction per queue


def worker_executor_id(settings: Settings) -> str:
    """MASTERPLAN_EXECUTOR_ID when set (a stable id resumes its own runs at restart), else unique."""
    return settings.executor_id or f"worker-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def register_worker_queues(settings: Settings) -> None:
    """Create (or update) the queues workers read; each worker runs at most `worker_concurrency` of each."""
    for name in (EXECUTION_QUEUE, GENERATION_QUEUE):
        DBOS.register_queue(
            name,
            worker_concurrency=settings.worker_concurrency,
            polling_interval_sec=QUEUE_POLL_SECONDS,
            on_conflict="always_update",
        )


def start_worker(runtime: Runtime) -> str:
    """Launch DBOS as a worker; returns its executor id. Its own pending runs (stable id) resume."""
    executor_id = worker_executor_id(runtime.settings)
    launch_durable(runtime, executor_id=executor_id, recover=True, queues=WORKER_QUEUES)
    register_worker_queues(runtime.settings)
    log.info("worker_started", executor_id=executor_id, queues=list(WORKER_QUEUES))
    return executor_id


def run_until(runtime: Runtime, stop: threading.Event, *, drain_seconds: float) -> None:
    """Work until `stop` is set, then stop starting tasks, let those in flight finish (up to
    `drain_seconds`) and hand the stopped runs back to the other workers."""
    executor_id = start_worker(runtime)
    try:
        while not stop.wait(1.0):  # a timed wait lets signal handlers run on the main thread
            pass
    finally:
        log.info("worker_stopping", executor_id=executor_id, drain_seconds=drain_seconds)
        shutdown_durable(drain_seconds=drain_seconds)
        log.info("worker_stopped", executor_id=executor_id)
