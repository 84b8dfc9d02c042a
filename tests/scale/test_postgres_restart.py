"""PostgreSQL restarted in the middle of a run: the API process and the workers reconnect, steps cut off by
the restart run again, and the plan completes with every task done once."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import psycopg
import pytest

from masterplan.plans.synthetic import synthetic_plan
from masterplan.realtime.client import RealtimeClient, ReceivedEvent
from masterplan.runtime import Runtime
from tests.conftest import TOKEN
from tests.fixtures.database import PG_ADMIN_DSN
from tests.scale.cluster import (
    assert_each_task_done_once,
    cluster,
    completed_tasks,
    wait_finished,
    wait_until,
)
from tests.scale.test_worker_killed import last_seq

pytestmark = pytest.mark.slow
TASKS = 40
ENV = {"MASTERPLAN_MODEL": "sim:latency=0.4", "MASTERPLAN_PARALLELISM": "4"}


def restart_postgres() -> None:
    """A real restart of the local cluster (every connection is cut), then wait until it answers."""
    version = subprocess.run(
        ["ls", "/etc/postgresql"], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    wait_until(_answers, timeout=60, what="PostgreSQL to answer again", interval=0.2)


def _answers() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


async def test_the_plan_completes_across_a_postgres_restart(pg_runtime: Runtime, tmp_path: Path) -> None:
    with cluster(pg_runtime, tmp_path / "logs", **ENV) as c:
        url = c.start_api()
        await asyncio.to_thread(c.start_worker, "worker-a")
        await asyncio.to_thread(c.start_worker, "worker-b")
        started = await asyncio.to_thread(c.run_plan, synthetic_plan(TASKS, seed=8))
        plan_id = started["plan_id"]
        async with RealtimeClient(url, TOKEN) as client:
            await client.join_masterplan(plan_id, last_seq=0)
            await asyncio.to_thread(
                wait_until, lambda: completed_tasks(pg_runtime, plan_id) >= 8, 90, "some tasks to complete"
            )
            await asyncio.to_thread(restart_postgres)
            restarted_at = completed_tasks(pg_runtime, plan_id)
            final = await asyncio.to_thread(wait_finished, pg_runtime, plan_id, 110)
            assert final.status == "completed", c.all_logs()
            expected = last_seq(pg_runtime, plan_id)
            events: list[ReceivedEvent] = []
            while not events or events[-1].seq < expected:
                events.append(await client.next_event(30))
        for name, process in c.processes.items():
            assert process.poll() is None, f"{name} exited:\n{c.log(name)[-3000:]}"
        workers_saw = c.log("worker-a") + c.log("worker-b")
        assert "server closed the connection" in workers_saw or "Connection refused" in workers_saw, (
            "the workers lost their connections while the plan ran"
        )

    assert restarted_at < TASKS, "PostgreSQL restarted before the plan's end"
    assert [e.seq for e in events] == list(range(1, expected + 1)), "every event once, in order, no gap"
    assert_each_task_done_once(pg_runtime, plan_id, Path(started["workspace_path"]), TASKS)
