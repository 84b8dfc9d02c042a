"""One API process and two workers; the worker running the plan is killed with SIGKILL mid-run.

The survivor finds the dead worker's lease expired, recovers its run and finishes the plan: every task
completed once, one git commit per task, and a client connected to the API process sees every event of
the plan exactly once, in order, with no gap.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from masterplan.events import plan_stream
from masterplan.models import EventStream
from masterplan.plans.synthetic import synthetic_plan
from masterplan.realtime.client import RealtimeClient, ReceivedEvent
from masterplan.runtime import Runtime
from tests.conftest import TOKEN
from tests.scale.cluster import (
    Cluster,
    assert_each_task_done_once,
    cluster,
    completed_tasks,
    wait_finished,
    wait_until,
)

pytestmark = pytest.mark.slow
TASKS = 60
ENV = {
    "MASTERPLAN_MODEL": "sim:latency=0.4",
    "MASTERPLAN_PARALLELISM": "4",
    "MASTERPLAN_LEASE_SECONDS": "6",
}


def worker_running(c: Cluster, execution_id: str) -> str:
    """The name of the worker process whose executor runs the workflow now."""
    found: dict[str, str] = {}

    def check() -> bool:
        state = c.workflow(execution_id)
        if state is None or state[0] != "PENDING":
            return False
        for name, process in c.processes.items():
            if name.startswith("worker") and f"-{process.pid}-" in state[1]:
                found["name"] = name
                return True
        return False

    wait_until(check, timeout=60, what="a worker to run the plan")
    return found["name"]


def last_seq(runtime: Runtime, plan_id: str) -> int:
    with runtime.reading() as session:
        return int(
            session.scalar(select(EventStream.last_seq).where(EventStream.stream == plan_stream(plan_id)))
            or 0
        )


async def test_a_killed_worker_s_run_is_finished_by_the_other_worker(
    pg_runtime: Runtime, tmp_path: Path
) -> None:
    with cluster(pg_runtime, tmp_path / "logs", **ENV) as c:
        url = c.start_api()
        await asyncio.to_thread(c.start_worker, "worker-a")
        await asyncio.to_thread(c.start_worker, "worker-b")
        started = await asyncio.to_thread(c.run_plan, synthetic_plan(TASKS, seed=5))
        plan_id = started["plan_id"]
        async with RealtimeClient(url, TOKEN) as client:
            await client.join_masterplan(plan_id, last_seq=0)
            victim = await asyncio.to_thread(worker_running, c, started["execution_id"])
            await asyncio.to_thread(
                wait_until, lambda: completed_tasks(pg_runtime, plan_id) >= 12, 90, "some tasks to complete"
            )
            await asyncio.to_thread(c.kill, victim)
            killed_at = completed_tasks(pg_runtime, plan_id)
            final = await asyncio.to_thread(wait_finished, pg_runtime, plan_id, 110)
            assert final.status == "completed", c.all_logs()
            expected = last_seq(pg_runtime, plan_id)
            events: list[ReceivedEvent] = []
            while not events or events[-1].seq < expected:
                events.append(await client.next_event(30))
        survivor = "worker-b" if victim == "worker-a" else "worker-a"
        assert "executor_recovered" in c.log(survivor), c.all_logs()

    assert killed_at < TASKS, "the worker was killed before the plan's end"
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, expected + 1)), "every event once, in order, no gap"
    assert events[-1].type == "masterplan_status_changed" and events[-1].payload["status"] == "completed"
    completions = [e.payload["task_id"] for e in events if e.type == "task_execution_complete"]
    assert len(completions) == len(set(completions)) == TASKS, "each task reported complete once"
    assert_each_task_done_once(pg_runtime, plan_id, Path(started["workspace_path"]), TASKS)
