"""Generation overhead: sim plans of 12, 120 and 1,000 tasks through the durable workflow.

The sim answers instantly, so the figures are our own cost per plan: discovery, skeleton, one call per
milestone (validation against every earlier task, a DBOS checkpoint, a progress event) and the final
one-transaction store. A hosted model adds its own seconds per call on top.
Run: .venv/bin/python -m benchmarks.generation_bench
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from masterplan.auth.tokens import ensure_local_user
from masterplan.config import Settings
from masterplan.durable import launch_durable, shutdown_durable
from masterplan.generation import service
from masterplan.generation.workflow import launch_generation, wait_generation
from masterplan.models import Generation, Masterplan
from masterplan.runtime import build_runtime

SIZES = (12, 120, 1000)


def measure(url: str, data_dir: Path) -> list[dict[str, Any]]:
    settings = Settings(
        _env_file=None, data_dir=data_dir, database_url=url, local_token=SecretStr("mp_bench"), model="sim"
    )  # type: ignore[call-arg]
    runtime = build_runtime(settings)
    launch_durable(runtime, executor_id="bench")
    rows: list[dict[str, Any]] = []
    try:
        for size in SIZES:
            model = f"sim:tasks={size},seed=1"
            with runtime.transaction() as session:
                user = ensure_local_user(session, settings)
                generation_id = service.create_generation(
                    session, user, "an inventory service", settings, model=model
                ).id
            start = time.perf_counter()
            launch_generation(generation_id, model)
            plan_id = wait_generation(generation_id)
            elapsed = time.perf_counter() - start
            with runtime.transaction() as session:
                row = session.get(Generation, generation_id)
                plan = session.get(Masterplan, uuid.UUID(plan_id)) if plan_id else None
                assert row is not None and plan is not None, row.error if row else "no generation"
                calls = plan.total_milestones + 2
                rows.append(
                    {
                        "tasks": plan.total_tasks,
                        "calls": calls,
                        "seconds": elapsed,
                        "per_call_ms": elapsed / calls * 1000,
                    }
                )
    finally:
        shutdown_durable()
        runtime.close()
    return rows


def run() -> dict[str, list[dict[str, Any]]]:
    """Measure on SQLite, and on PostgreSQL when the local server answers."""
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = measure(f"sqlite:///{tmp}/bench.db", Path(tmp))
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.fixtures.database import postgres_database

        with postgres_database() as url, tempfile.TemporaryDirectory() as tmp:
            results["postgresql"] = measure(url, Path(tmp))
    except Exception as exc:  # the server may be absent on a laptop
        print(f"postgresql skipped: {exc}")
    for database, rows in results.items():
        for row in rows:
            print(
                f"{database:>10}: {row['tasks']:5d} tasks in {row['calls']:4d} calls: {row['seconds']:6.2f} s total, "
                f"{row['per_call_ms']:6.1f} ms overhead per call"
            )
    return results


if __name__ == "__main__":
    run()
