"""`serve --no-worker` runs no execution itself; `masterplan worker` processes pick the runs up."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from masterplan.plans.synthetic import synthetic_plan
from masterplan.runtime import Runtime
from tests.scale.cluster import (
    API,
    HEADERS,
    assert_each_task_done_once,
    cluster,
    completed_tasks,
    plan_row,
    wait_finished,
    wait_until,
)

pytestmark = pytest.mark.slow
TASKS = 12


def test_an_api_only_process_leaves_runs_to_the_workers(pg_runtime: Runtime, tmp_path: Path) -> None:
    with cluster(pg_runtime, tmp_path / "logs", MASTERPLAN_MODEL="sim", MASTERPLAN_PARALLELISM="4") as c:
        c.start_api()
        started = c.run_plan(synthetic_plan(TASKS, seed=3))
        plan_id = started["plan_id"]
        # Nothing runs the plan until a worker starts: its run waits on the queue.
        ready = httpx.get(f"{c.api_url}/api/v1/ready").json()
        assert ready["durable_execution"] == "ok"
        status = c.workflow(started["execution_id"])
        assert status is not None and status[0] == "ENQUEUED"
        assert plan_row(pg_runtime, plan_id).completed_tasks == 0
        c.start_worker("worker-1")
        final = wait_finished(pg_runtime, plan_id, timeout=90)
        assert final.status == "completed", c.all_logs()
        assert_each_task_done_once(pg_runtime, plan_id, Path(started["workspace_path"]), TASKS)
        detail = httpx.get(f"{c.api_url}{API}/{plan_id}", headers=HEADERS).json()
        assert detail["status"] == "completed"
        status = c.workflow(started["execution_id"])
        assert status is not None and status[0] == "SUCCESS" and status[1].startswith("worker-")


def test_a_worker_stopped_with_sigterm_hands_its_run_back_at_once(
    pg_runtime: Runtime, tmp_path: Path
) -> None:
    # A long lease: the run can only move on this soon because the stopping worker released it. Tasks of
    # 1 s: the plan (10 s or more) must outlast starting worker-b, whatever the engine's speed.
    env = {
        "MASTERPLAN_MODEL": "sim:latency=1.0",
        "MASTERPLAN_PARALLELISM": "3",
        "MASTERPLAN_LEASE_SECONDS": "300",
    }
    with cluster(pg_runtime, tmp_path / "logs", **env) as c:
        c.start_api()
        first = c.start_worker("worker-a")
        started = c.run_plan(synthetic_plan(30, seed=4))
        plan_id = started["plan_id"]
        wait_until(lambda: completed_tasks(pg_runtime, plan_id) >= 5, 60, "some tasks to complete")
        c.start_worker("worker-b")
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0, c.log("worker-a")[-3000:]
        stopped_at = completed_tasks(pg_runtime, plan_id)
        final = wait_finished(pg_runtime, plan_id, timeout=90)
        assert final.status == "completed", c.all_logs()
        recovered = c.log("worker-b")
    assert stopped_at < 30, "worker-a stopped before the plan's end"
    assert '"released": true' in recovered and "executor_recovered" in recovered
    assert "worker_stopped" in c.log("worker-a")
    assert_each_task_done_once(pg_runtime, plan_id, Path(started["workspace_path"]), 30)


def test_a_generation_requested_from_an_api_only_process_runs_on_a_worker(
    pg_runtime: Runtime, tmp_path: Path
) -> None:
    with cluster(pg_runtime, tmp_path / "logs", MASTERPLAN_MODEL="sim:tasks=14") as c:
        c.start_api()
        c.start_worker("worker-a")
        accepted = httpx.post(
            f"{c.api_url}{API}/generate", json={"request": "a library lending service"}, headers=HEADERS
        )
        assert accepted.status_code == 202, accepted.text
        generation_id = accepted.json()["generation_id"]

        def finished() -> dict[str, Any] | None:
            body: dict[str, Any] = httpx.get(
                f"{c.api_url}/api/v1/generations/{generation_id}", headers=HEADERS
            ).json()
            return body if body["status"] in ("completed", "failed") else None

        wait_until(lambda: finished() is not None, 90, "the generation to finish")
        generation = finished()
        status = c.workflow(generation_id)
    assert generation is not None and generation["status"] == "completed", c.all_logs()
    assert status is not None and status[0] == "SUCCESS" and status[1].startswith("worker-")
    assert plan_row(pg_runtime, generation["masterplan_id"]).trace_id == generation["trace_id"]
