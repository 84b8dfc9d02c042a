"""kill -9 of `masterplan serve` in the middle of a run: a new `serve` resumes it as if nothing happened."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from masterplan.models import Masterplan, TaskAttempt
from masterplan.plans.synthetic import synthetic_plan
from masterplan.runtime import Runtime
from masterplan.workspace.git import git
from tests.execution.helpers import API, tasks_by_number, wait_plan, wait_until

TASKS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(runtime: Runtime, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`masterplan serve` on the test's database, with a slow simulated coder."""
    settings = runtime.settings
    env = {
        **os.environ,
        "MASTERPLAN_DATA_DIR": str(settings.data_dir),
        "MASTERPLAN_DATABASE_URL": settings.resolved_database_url,
        "MASTERPLAN_LOCAL_TOKEN": settings.local_token.get_secret_value(),
        "MASTERPLAN_MODEL": "sim:latency=0.3",
        "MASTERPLAN_PARALLELISM": "4",
        # Stable, so the restarted server adopts the killed one's runs (on PostgreSQL too).
        "MASTERPLAN_EXECUTOR_ID": "crash-test",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "masterplan", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        wait_until(lambda: _answers(port), timeout=60, what="the server to answer")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def completed(runtime: Runtime, plan_id: str) -> int:
    return sum(1 for t in tasks_by_number(runtime, plan_id).values() if t.status == "completed")


@pytest.mark.slow
def test_a_run_killed_mid_wave_resumes_after_restart_with_one_commit_per_task(
    runtime: Runtime, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    headers = {"Authorization": f"Bearer {runtime.settings.local_token.get_secret_value()}"}
    base = f"http://127.0.0.1:{port}"
    with serve(runtime, port, log) as first:
        plan = httpx.post(
            f"{base}{API}", json=synthetic_plan(TASKS, seed=11).model_dump(mode="json"), headers=headers
        )
        plan_id = plan.json()["id"]
        httpx.post(f"{base}{API}/{plan_id}/approve", json={}, headers=headers).raise_for_status()
        started = httpx.post(f"{base}{API}/{plan_id}/execute", headers=headers)
        assert started.status_code == 202, started.text
        wait_until(lambda: completed(runtime, plan_id) >= 6, timeout=120, what="some tasks to complete")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    before = completed(runtime, plan_id)
    assert before < TASKS, "the run was interrupted before its end"
    workspace = Path(started.json()["workspace_path"])

    with serve(runtime, port, log):
        final = wait_plan(runtime, plan_id, {"completed", "failed"}, timeout=180)
    assert final.status == "completed", log.read_text()[-3000:]
    assert (final.completed_tasks, final.failed_tasks, final.progress_percent) == (TASKS, 0, 100.0)
    subjects = git(workspace, "log", "--format=%s").splitlines()
    per_task = Counter(s.split(":", 1)[0] for s in subjects if s.startswith("task "))
    assert len(subjects) == TASKS + 1 and set(per_task.values()) == {1}, "each task committed exactly once"
    tasks = tasks_by_number(runtime, plan_id)
    with runtime.reading() as session:
        for task in tasks.values():
            assert task.commit_sha and git(workspace, "cat-file", "-t", task.commit_sha).strip() == "commit"
        passed = session.scalar(
            select(func.count()).select_from(TaskAttempt).where(TaskAttempt.passed.is_(True))
        )
        assert passed == TASKS, "every task has exactly one passed attempt"
        attempts_cost = session.scalar(select(func.sum(TaskAttempt.cost_usd)))
        plan_row = session.get(Masterplan, uuid.UUID(plan_id))
        assert plan_row is not None
        assert plan_row.actual_cost_usd == pytest.approx(
            float(attempts_cost or 0) + plan_row.quality_cost_usd, abs=1e-6
        )
    assert git(workspace, "status", "--porcelain").strip() == ""
