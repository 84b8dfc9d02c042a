"""How a wave runs inside DBOS: one step running its tasks in threads, a checkpointed step per task, or
queued child workflows.

The decision behind masterplan.execution.workflow (which runs its batches inside one step: the tasks keep
their state in our database, so a replayed batch only carries on). Tasks are bare 0.5 s sleeps (no database, no model) on
the 120-task random plan (seed 42) at concurrency 16, SQLite system database, so the figures are DBOS's own
cost: makespan against the wave bound for each strategy, in the same process.
Run: .venv/bin/python -m benchmarks.wave_strategy_bench
"""

from __future__ import annotations

import contextvars
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from dbos import DBOS, SetEnqueueOptions, SetWorkflowID

from masterplan.plans.graph import waves
from masterplan.plans.synthetic import synthetic_plan

LATENCY = 0.5
CONCURRENCY = 16
QUEUE = "bench.wave_tasks"
LEVELS = waves({t.task_number: t.depends_on for t in synthetic_plan(120, seed=42).all_tasks()})


def sleep_task(number: int) -> int:
    time.sleep(LATENCY)
    return number


@DBOS.step(name="bench.mark")
def mark(number: int) -> int:
    return number


@DBOS.workflow(name="bench.task_workflow")
def task_workflow(number: int) -> int:
    mark(number)
    DBOS.run_step({"name": "bench.sleep"}, sleep_task, number)
    return mark(number)


@DBOS.workflow(name="bench.waves_as_children")
def waves_as_children(run: str) -> int:
    for level in LEVELS:
        handles = []
        for number in level:
            with SetWorkflowID(f"{run}-t{number}"), SetEnqueueOptions(queue_partition_key=run):
                handles.append(DBOS.enqueue_workflow(QUEUE, task_workflow, number))
        for handle in handles:
            handle.get_result(polling_interval_sec=0.02)
    return len(LEVELS)


@DBOS.workflow(name="bench.waves_as_steps")
def waves_as_steps(run: str) -> int:
    gate = threading.Semaphore(CONCURRENCY)
    with ThreadPoolExecutor(max_workers=CONCURRENCY * 2) as pool:
        for level in LEVELS:
            futures = []
            for number in level:
                reservation = DBOS.reserve_step()

                def go(reservation: Any = reservation, number: int = number) -> int:
                    with gate:
                        result: int = reservation.run({"name": "bench.sleep"}, sleep_task, number)
                        return result

                futures.append(pool.submit(contextvars.copy_context().run, go))
            for future in futures:
                future.result()
    return len(LEVELS)


def sleep_wave(numbers: list[int]) -> int:
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        return len(list(pool.map(sleep_task, numbers)))


@DBOS.workflow(name="bench.waves_as_one_step")
def waves_as_one_step(run: str) -> int:
    for level in LEVELS:
        DBOS.run_step({"name": "bench.wave"}, sleep_wave, level)
    return len(LEVELS)


def run() -> list[dict[str, Any]]:
    bound = sum(max(LATENCY, len(level) * LATENCY / CONCURRENCY) for level in LEVELS)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        DBOS(
            config={
                "name": "wave-strategy-bench",
                "system_database_url": f"sqlite:///{Path(tmp) / 'dbos.sqlite'}",
                "application_version": "bench",
                "executor_id": "bench",
                "notification_listener_polling_interval_sec": 0.05,
                "log_level": "WARNING",
            }
        )
        DBOS.launch()
        DBOS.register_queue(QUEUE, partition_concurrency=CONCURRENCY, polling_interval_sec=0.02)
        try:
            for name, workflow in (
                ("one step per wave", waves_as_one_step),
                ("a step per task", waves_as_steps),
                ("queued child workflows", waves_as_children),
            ):
                start = time.perf_counter()
                run_id = f"run-{workflow.__name__}"
                with SetWorkflowID(run_id):
                    DBOS.start_workflow(workflow, run_id).get_result(polling_interval_sec=0.02)
                makespan = time.perf_counter() - start
                row = {
                    "strategy": name,
                    "makespan_s": round(makespan, 2),
                    "wave_bound_s": round(bound, 2),
                    "ratio": round(makespan / bound, 3),
                    "overhead_per_wave_ms": round((makespan - bound) / len(LEVELS) * 1000, 1),
                }
                results.append(row)
                print(
                    f"{name:24s} makespan {row['makespan_s']}s  bound {row['wave_bound_s']}s  ratio {row['ratio']}  "
                    f"overhead per wave {row['overhead_per_wave_ms']} ms",
                    flush=True,
                )
        finally:
            DBOS.destroy()
    return results


if __name__ == "__main__":
    run()
