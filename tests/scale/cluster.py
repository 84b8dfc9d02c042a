"""A real scale-out layout on loopback: `serve --no-worker` and `masterplan worker` processes on one
PostgreSQL database and Redis, started as subprocesses, each stopped when its block ends."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from masterplan.models import Masterplan, Task, TaskAttempt
from masterplan.plans.schemas import PlanDocument
from masterplan.runtime import Runtime
from masterplan.workspace.git import git
from tests.conftest import TOKEN

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"
API = "/api/v1/masterplans"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Any, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not _checked(check):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _checked(check: Any) -> bool:
    try:
        return bool(check())
    except OperationalError:  # the test's own connection cut by a PostgreSQL restart: ask again
        return False


@dataclass
class Cluster:
    """Processes sharing the test's database; their output goes to log files in `logs`."""

    runtime: Runtime
    logs: Path
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    api_url: str = ""

    def environment(self, **extra: str) -> dict[str, str]:
        settings = self.runtime.settings
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "MASTERPLAN_DATA_DIR": str(settings.data_dir),
            "MASTERPLAN_DATABASE_URL": settings.resolved_database_url,
            "MASTERPLAN_LOCAL_TOKEN": TOKEN,
            "MASTERPLAN_REDIS_URL": REDIS_URL,
            **self.env,
            **extra,
        }

    def spawn(self, name: str, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "masterplan", *args],
                env=self.environment(**extra),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.logs,
            )
        self.processes[name] = process
        return process

    def start_api(self, name: str = "api") -> str:
        """`masterplan serve --no-worker` on a free port; returns its base URL once it answers."""
        port = free_port()
        self.spawn(name, "serve", "--no-worker", "--port", str(port))
        self.api_url = f"http://127.0.0.1:{port}"
        wait_until(lambda: self._ready(name), timeout=60, what=f"{name} to answer")
        return self.api_url

    def _ready(self, name: str) -> bool:
        if self.processes[name].poll() is not None:
            raise AssertionError(f"{name} exited:\n{self.log(name)[-3000:]}")
        try:
            return httpx.get(f"{self.api_url}/api/v1/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def start_worker(self, name: str, **extra: str) -> subprocess.Popen[bytes]:
        """`masterplan worker`; returns once it took its lease (it then runs what the queues hold)."""
        process = self.spawn(name, "worker", **extra)
        wait_until(
            lambda: "worker_started" in self.log(name) or process.poll() is not None,
            timeout=60,
            what=f"{name} to start",
        )
        if process.poll() is not None:
            raise AssertionError(f"{name} exited:\n{self.log(name)[-3000:]}")
        return process

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def all_logs(self, tail: int = 2500) -> str:
        return "\n".join(f"--- {name} ---\n{self.log(name)[-tail:]}" for name in self.processes)

    def kill(self, name: str) -> None:
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    # --- the API, as a user drives it ---

    def run_plan(self, document: PlanDocument) -> dict[str, Any]:
        """Import, approve and execute a plan; returns the execute response (ids, workspace)."""
        plan = httpx.post(f"{self.api_url}{API}", json=document.model_dump(mode="json"), headers=HEADERS)
        assert plan.status_code == 201, plan.text
        plan_id = plan.json()["id"]
        approved = httpx.post(f"{self.api_url}{API}/{plan_id}/approve", json={}, headers=HEADERS)
        assert approved.status_code == 200, approved.text
        started = httpx.post(f"{self.api_url}{API}/{plan_id}/execute", headers=HEADERS, timeout=30)
        assert started.status_code == 202, started.text
        return {"plan_id": plan_id, **started.json()}

    def workflow(self, workflow_id: str) -> tuple[str, str] | None:
        """(status, executor id) of a workflow in DBOS's status table."""
        with self.runtime.engine.connect() as conn:
            row = conn.execute(
                text("SELECT status, executor_id FROM dbos.workflow_status WHERE workflow_uuid = :id"),
                {"id": workflow_id},
            ).first()
        return (str(row[0]), str(row[1])) if row else None


@contextmanager
def cluster(runtime: Runtime, logs: Path, **env: str) -> Iterator[Cluster]:
    """A cluster whose processes all stop (SIGTERM, then SIGKILL) when the block ends."""
    logs.mkdir(parents=True, exist_ok=True)
    running = Cluster(runtime, logs, env=env)
    with ExitStack() as stack:
        stack.callback(running.stop_all)
        yield running


def plan_row(runtime: Runtime, plan_id: str) -> Masterplan:
    with runtime.reading() as session:
        plan = session.get(Masterplan, uuid.UUID(plan_id))
        assert plan is not None
        session.expunge(plan)
        return plan


def completed_tasks(runtime: Runtime, plan_id: str) -> int:
    with runtime.reading() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Task)
                .where(Task.masterplan_id == uuid.UUID(plan_id), Task.status == "completed")
            )
            or 0
        )


def wait_finished(runtime: Runtime, plan_id: str, timeout: float) -> Masterplan:
    wait_until(
        lambda: plan_row(runtime, plan_id).status in ("completed", "failed", "cancelled"),
        timeout=timeout,
        what="the plan to finish",
        interval=0.25,
    )
    return plan_row(runtime, plan_id)


def assert_each_task_done_once(runtime: Runtime, plan_id: str, workspace: Path, tasks: int) -> None:
    """Every task completed, with exactly one passed attempt and exactly one git commit."""
    with runtime.reading() as session:
        rows = session.scalars(select(Task).where(Task.masterplan_id == uuid.UUID(plan_id))).all()
        assert sorted(t.task_number for t in rows) == list(range(1, tasks + 1))
        assert {t.status for t in rows} == {"completed"}, Counter(t.status for t in rows)
        passed = session.execute(
            select(TaskAttempt.task_id, func.count())
            .where(TaskAttempt.task_id.in_([t.id for t in rows]), TaskAttempt.passed.is_(True))
            .group_by(TaskAttempt.task_id)
        ).all()
        assert len(passed) == tasks and {count for _, count in passed} == {1}, "one passed attempt per task"
        for task in rows:
            assert task.commit_sha and git(workspace, "cat-file", "-t", task.commit_sha).strip() == "commit"
    subjects = git(workspace, "log", "--format=%s").splitlines()
    per_task = Counter(s.split(":", 1)[0] for s in subjects if s.startswith("task "))
    assert len(per_task) == tasks and set(per_task.values()) == {1}, f"one commit per task: {per_task}"
    assert git(workspace, "status", "--porcelain").strip() == ""
