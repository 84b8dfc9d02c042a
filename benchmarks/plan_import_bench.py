"""Import a generated 500-task plan and GET its detail, through the API, on SQLite and PostgreSQL.

Targets (issue 2): import <= 1 s, detail <= 150 ms, medians of 5 runs.
Run: .venv/bin/python -m benchmarks.plan_import_bench
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr

from masterplan.app import create_app
from masterplan.config import Settings
from masterplan.plans.synthetic import synthetic_plan
from masterplan.runtime import build_runtime

TOKEN = "mp_bench_token"
RUNS = 5
TASKS = 500


def measure(url: str, data_dir: Path) -> dict[str, float]:
    settings = Settings(
        _env_file=None, data_dir=data_dir, database_url=url, local_token=SecretStr(TOKEN), model="sim"
    )  # type: ignore[call-arg]
    runtime = build_runtime(settings)
    document = synthetic_plan(TASKS, seed=42).model_dump(mode="json")
    imports: list[float] = []
    details: list[float] = []
    with TestClient(create_app(runtime=runtime), headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        for _ in range(RUNS):
            start = time.perf_counter()
            response = client.post("/api/v1/masterplans", json=document)
            imports.append(time.perf_counter() - start)
            response.raise_for_status()
            plan_id = response.json()["id"]
            start = time.perf_counter()
            client.get(f"/api/v1/masterplans/{plan_id}").raise_for_status()
            details.append(time.perf_counter() - start)
    runtime.close()
    return {"import_s": statistics.median(imports), "detail_s": statistics.median(details)}


def run() -> list[dict[str, Any]]:
    """Measure on SQLite, and on PostgreSQL when the local server answers."""
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append({"database": "sqlite", **measure(f"sqlite:///{tmp}/bench.db", Path(tmp))})
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.fixtures.database import postgres_database

        with postgres_database() as url, tempfile.TemporaryDirectory() as tmp:
            results.append({"database": "postgresql", **measure(url, Path(tmp))})
    except Exception as exc:  # the server may be absent on a laptop
        print(f"postgresql skipped: {exc}")
    for row in results:
        print(
            f"{row['database']:>10}: import {TASKS} tasks median {row['import_s'] * 1000:7.1f} ms "
            f"(target 1000, ratio {row['import_s'] / 1.0:.2f}); detail median {row['detail_s'] * 1000:6.1f} ms "
            f"(target 150, ratio {row['detail_s'] / 0.150:.2f})"
        )
    return results


if __name__ == "__main__":
    run()
