"""Scale-out: 1, 2 and 4 `masterplan worker` processes on PostgreSQL behind one `serve --no-worker`.

Each configuration executes one 500-task plan (seed 42; a simulated coder answering in 1 s; parallelism
64); then four such plans run at once on one worker. Reported: makespan against the wave bound (sum over waves of
max(1 s, wave size / 64 x 1 s)), throughput in tasks per second, and the CPU each process used, which
shows where the limit lies. Acceptance tests, Gate S and scoring are switched off in the workers (as in
execution_bench) to time the engine; Redis carries the events.
Run: .venv/bin/python -m benchmarks.scale_bench   (BENCH_WORKERS=1,2 BENCH_PLANS=1 to choose)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from masterplan.auth.tokens import ensure_local_user
from masterplan.config import Settings
from masterplan.models import Masterplan
from masterplan.plans.graph import waves
from masterplan.plans.synthetic import synthetic_plan
from masterplan.runtime import Runtime, build_runtime

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "mp_bench_token"
REDIS_URL = "redis://127.0.0.1:6379/0"
TASKS = 500
LATENCY = 1.0
PARALLELISM = 64
SEED = 42
API = "/api/v1/masterplans"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def wave_bound(tasks: int | None = None, seed: int = SEED) -> tuple[float, int]:
    """(bound in seconds, number of waves) of the synthetic plan."""
    document = synthetic_plan(tasks or TASKS, seed=seed)
    levels = waves({t.task_number: t.depends_on for t in document.all_tasks()})
    return sum(max(LATENCY, len(level) * LATENCY / PARALLELISM) for level in levels), len(levels)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Layout:
    """The processes of one configuration; all stopped on exit."""

    def __init__(self, database_url: str, data_dir: Path, workers: int) -> None:
        self.env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
            "MASTERPLAN_DATA_DIR": str(data_dir),
            "MASTERPLAN_DATABASE_URL": database_url,
            "MASTERPLAN_LOCAL_TOKEN": TOKEN,
            "MASTERPLAN_REDIS_URL": REDIS_URL,
            "MASTERPLAN_MODEL": "sim",
            "MASTERPLAN_MODEL_CODER": f"sim:latency={LATENCY}",
            "MASTERPLAN_PARALLELISM": str(PARALLELISM),
            "MASTERPLAN_HARD_COST_LIMIT_USD": "100000",
            "MASTERPLAN_SOFT_COST_LIMIT_USD": "100000",
        }
        self.logs = data_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.workers = workers
        self.url = ""

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", *args], env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
            )
        self.processes[name] = process
        return process

    def __enter__(self) -> Layout:
        port = _free_port()
        self.spawn("api", "masterplan", "serve", "--no-worker", "--port", str(port))
        self.url = f"http://127.0.0.1:{port}"
        for index in range(self.workers):
            self.spawn(f"worker-{index + 1}", "benchmarks.scale_bench", "worker")
        _wait(lambda: _answers(self.url), 60, "the API process")
        for name in self.processes:
            if name.startswith("worker"):
                _wait(lambda name=name: "worker_started" in self.log(name), 60, name)
        return self

    def __exit__(self, *_: object) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def cpu(self) -> dict[str, float]:
        return {name: cpu_seconds(p.pid) for name, p in self.processes.items() if p.poll() is None}


def measure(workers: int, plans: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from tests.fixtures.database import postgres_database

    with postgres_database() as url, tempfile.TemporaryDirectory(prefix="masterplan-scale-") as tmp:
        settings = Settings(
            _env_file=None, data_dir=Path(tmp), database_url=url, local_token=SecretStr(TOKEN)
        )  # type: ignore[call-arg]
        runtime = build_runtime(settings)
        with runtime.transaction() as session:
            ensure_local_user(session, settings)
        try:
            with Layout(url, Path(tmp), workers) as layout:
                ids = [_approved(layout.url, seed=SEED) for _ in range(plans)]
                cpu_before = layout.cpu()
                start = time.perf_counter()
                for plan_id in ids:
                    httpx.post(
                        f"{layout.url}{API}/{plan_id}/execute", headers=HEADERS, timeout=60
                    ).raise_for_status()
                _wait(
                    lambda: _all_finished(runtime, ids),
                    60 + 10 * TASKS * LATENCY,
                    "the plans to finish",
                    0.05,
                )
                makespan = time.perf_counter() - start
                cpu = {
                    name: round(used - cpu_before.get(name, 0.0), 1) for name, used in layout.cpu().items()
                }
                completed = _completed(runtime, ids)
        finally:
            runtime.close()
    bound, wave_count = wave_bound()
    return {
        "workers": workers,
        "plans": plans,
        "tasks": TASKS * plans,
        "completed": completed,
        "makespan_s": round(makespan, 2),
        "wave_bound_s": round(bound, 2),
        "waves": wave_count,
        "makespan_over_bound": round(makespan / bound, 3),
        "throughput_tasks_per_s": round(completed / makespan, 2),
        "bound_throughput_tasks_per_s": round(TASKS * plans / bound, 2),
        "cpu_s": cpu,
        "cores": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
    }


def _approved(url: str, seed: int) -> str:
    document = synthetic_plan(TASKS, seed=seed).model_dump(mode="json")
    created = httpx.post(f"{url}{API}", json=document, headers=HEADERS, timeout=60)
    created.raise_for_status()
    plan_id: str = created.json()["id"]
    httpx.post(f"{url}{API}/{plan_id}/approve", json={}, headers=HEADERS, timeout=60).raise_for_status()
    return plan_id


def _all_finished(runtime: Runtime, ids: list[str]) -> bool:
    with runtime.reading() as session:
        statuses = session.scalars(
            select(Masterplan.status).where(Masterplan.id.in_([uuid.UUID(i) for i in ids]))
        )
        return all(s in ("completed", "failed", "cancelled") for s in statuses)


def _completed(runtime: Runtime, ids: list[str]) -> int:
    with runtime.reading() as session:
        total = session.scalar(
            select(func.sum(Masterplan.completed_tasks)).where(Masterplan.id.in_([uuid.UUID(i) for i in ids]))
        )
        return int(total or 0)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(check: Any, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not _checked(check):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(interval)


def _checked(check: Any) -> bool:
    try:
        return bool(check())
    except OperationalError:  # the database restarting under us (another run's test): ask again
        return False


def worker_role() -> None:
    """A worker with the quality hooks off (the engine alone is timed)."""
    from benchmarks.execution_bench import quality_hooks
    from masterplan.cli.worker import worker

    with quality_hooks(False):
        worker(concurrency=None, drain_seconds=5.0)


def line(row: dict[str, Any]) -> str:
    busiest = max(row["cpu_s"].items(), key=lambda item: item[1])
    return (
        f"{row['workers']} worker(s), {row['plans']} plan(s) x {TASKS} tasks: makespan {row['makespan_s']:7.2f} s, "
        f"bound {row['wave_bound_s'] * 1:6.2f} s ({row['waves']} waves), ratio {row['makespan_over_bound']:.3f}; "
        f"throughput {row['throughput_tasks_per_s']:6.2f} tasks/s (bound {row['bound_throughput_tasks_per_s']:.2f}); "
        f"CPU s {row['cpu_s']} (busiest {busiest[0]}: {busiest[1] / row['makespan_s'] * 100:.0f}% of a core); "
        f"load {row['load_average']}"
    )


def configurations() -> list[tuple[int, int]]:
    """(workers, plans): one plan on 1, 2 and 4 workers, then four plans at once on one worker.

    Four busy workers would need more than PostgreSQL's default 100 connections (up to ~50 each:
    30 for the application's pool, 20 for DBOS's), so several plans run on one worker by default;
    BENCH_WORKERS and BENCH_PLANS choose other combinations.
    """
    counts = [int(n) for n in os.environ.get("BENCH_WORKERS", "1,2,4").split(",")]
    if "BENCH_PLANS" in os.environ:
        return [(w, int(p)) for p in os.environ["BENCH_PLANS"].split(",") for w in counts]
    return [(w, 1) for w in counts] + [(1, 4)]


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for workers, plans in configurations():
        row = measure(workers, plans)
        rows.append(row)
        print(line(row), flush=True)
    return rows


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        worker_role()
    else:
        run()
