"""The durable execution of a plan: one DBOS workflow per run (workflow id = execution id).

The waves run inside one step of this workflow (decisions and batches, until the run waits or ends), a
batch's tasks concurrently in threads. The task state lives in our database and every atom is safe to
repeat, so a replay after a crash decides and runs the batch again and each task carries on from where
the database left it (a finished task is only reported). In DBOS alone, a step per wave cost 6.5 ms a
wave, a checkpointed step per task 45 ms and queued child workflows 96 ms (benchmarks/wave_strategy_bench.py,
120-task plan); the waves of one step cost none of these.

Control (pause, resume, cancel, retry, approve) lives in the database; a message on CONTROL_TOPIC only
wakes a waiting run early.
"""

from __future__ import annotations

import contextvars
import functools
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

from dbos import DBOS

from masterplan.durable import RECONNECT, current_runtime
from masterplan.execution import quality, waves
from masterplan.execution.atom import (
    AtomStart,
    Interrupted,
    Slot,
    Slots,
    prepare_batch,
    run_atom,
    stopping,
)
from masterplan.observability.context import plan_scope, task_scope

CONTROL_TOPIC = "masterplan.control"
WAIT_SECONDS = 30.0
# The task threads of all runs in this process (each batch uses at most twice its parallelism).
MAX_TASK_THREADS = 256

_active: set[str] = set()
_active_changed = threading.Condition()


@contextmanager
def _tracked(workflow_id: str) -> Iterator[None]:
    with _active_changed:
        _active.add(workflow_id)
    try:
        yield
    finally:
        with _active_changed:
            _active.discard(workflow_id)
            _active_changed.notify_all()


def active_runs() -> list[str]:
    """Runs executing in this process right now."""
    with _active_changed:
        return sorted(_active)


def wait_for_runs(timeout: float) -> bool:
    """Wait until no run executes in this process; False on timeout."""
    with _active_changed:
        return _active_changed.wait_for(lambda: not _active, timeout=timeout)


@DBOS.workflow(name="masterplan.execute_plan")
def execute_plan(plan_id: str) -> str:
    """Run the plan's waves until nothing runnable remains; returns the final plan status."""
    run_id = DBOS.workflow_id or plan_id
    with _tracked(run_id), plan_scope(current_runtime(), plan_id, run_id):
        try:
            return _run(plan_id)
        except Exception as exc:
            fail_run_step(plan_id, f"{type(exc).__name__}: {exc}")
            raise


def _run(plan_id: str) -> str:
    derive_tests_step(plan_id)
    while True:
        if stopping.is_set():
            raise Interrupted
        decision = run_waves(plan_id)
        if decision["action"] == "finish":
            return str(decision["reason"])
        DBOS.recv(CONTROL_TOPIC, timeout_seconds=WAIT_SECONDS)


@DBOS.step(name="masterplan.waves", **RECONNECT)
def run_waves(plan_id: str) -> dict[str, Any]:
    """Gate, decide and run batches of waves until the run must wait (paused, approval) or is over.

    One checkpoint for all: the tasks' statuses are the state, so a replay after a crash decides again
    from them (the tasks a decision claimed are claimed, a finished task is only reported). Gate S runs after each
    wave and before the first one (a resumed plan re-runs failing tests first); a failed gate pauses the
    plan, so the decision waits. The last task of a wave to finish reports the wave complete, in its own
    transaction. When nothing is left to run, the completion reviews are queued before the plan is
    marked completed.
    """
    finished_wave: int | None = None
    while True:
        if stopping.is_set():
            raise Interrupted
        quality.gate(current_runtime(), uuid.UUID(plan_id), finished_wave)
        decision = waves.next_decision(current_runtime(), uuid.UUID(plan_id))
        if decision["action"] == "review":  # before the plan reads completed (safe to repeat)
            quality.after_completion(current_runtime(), uuid.UUID(plan_id))
            decision = waves.next_decision(current_runtime(), uuid.UUID(plan_id), reviewed=True)
        if decision["action"] != "run":
            return decision
        run_batch(plan_id, [int(n) for n in decision["tasks"]])
        finished_wave = int(decision["wave"])


@DBOS.step(name="masterplan.derive_tests", **RECONNECT)
def derive_tests_step(plan_id: str) -> None:
    quality.before_execution(current_runtime(), uuid.UUID(plan_id))


@DBOS.step(name="masterplan.fail_run", **RECONNECT)
def fail_run_step(plan_id: str, error: str) -> None:
    waves.fail_run(current_runtime(), uuid.UUID(plan_id), error)


def run_task(plan_id: str, number: int, start: AtomStart | None, slot: Slot) -> dict[str, Any]:
    """One task of a batch; a finished task gets its confidence (and maybe a review)."""
    with task_scope(current_runtime(), plan_id, number):
        result = run_atom(current_runtime(), uuid.UUID(plan_id), number, start, slot)
        if result["status"] in ("completed", "failed"):
            quality.after_task(current_runtime(), uuid.UUID(plan_id), number)
        return result


@functools.cache
def _task_threads() -> ThreadPoolExecutor:
    """The threads tasks run in, kept for the next batches (an idle one is reused before a new one is
    started; each batch bounds its own share)."""
    return ThreadPoolExecutor(max_workers=MAX_TASK_THREADS, thread_name_prefix="masterplan-task")


def run_batch(plan_id: str, numbers: list[int]) -> list[dict[str, Any]]:
    """Run tasks concurrently: at most `parallelism` in progress (asking the model) at once.

    A task that has its answer hands its slot on while its files are checked and committed, so a batch
    has threads for twice the parallelism. The tasks holding slots go first: the others wait for them.
    """
    parallelism = max(1, current_runtime().settings.parallelism)
    starts = prepare_batch(current_runtime(), uuid.UUID(plan_id), numbers)
    # The decision claimed the first tasks of the batch: they hold their slots already.
    claimed = {n for n, start in starts.items() if start.claimed}
    slots = Slots(parallelism - len(claimed))
    threads = threading.BoundedSemaphore(max(1, min(2 * parallelism, len(numbers))))

    def run_one(number: int) -> dict[str, Any]:
        try:
            if stopping.is_set():
                raise Interrupted
            return run_task(plan_id, number, starts.get(number), slots.slot(number in claimed))
        finally:
            threads.release()

    futures: list[Future[dict[str, Any]]] = []
    for number in sorted(numbers, key=lambda n: n not in claimed):
        threads.acquire()
        futures.append(_task_threads().submit(contextvars.copy_context().run, run_one, number))
    wait(futures)
    results: list[dict[str, Any]] = []
    interrupted = False
    for future in futures:
        error = future.exception()
        if isinstance(error, Interrupted):
            interrupted = True
        elif error is not None:
            raise error
        else:
            results.append(future.result())
    if interrupted:
        raise Interrupted
    return results
