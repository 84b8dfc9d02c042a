"""The benchmark report: every figure with its target (or baseline) and the ratio, and the machine it ran on.

`python -m benchmarks` runs each benchmark through `python -m benchmarks.report run NAME OUT.json` (the
benchmark's own run() or main(), its return value kept as JSON), then writes benchmarks/results/report.md
and report.json from what each one returned. Figures are read from a benchmark's results by an adapter
below; a benchmark without one has its numbers listed without a reference.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


@dataclass
class Figure:
    benchmark: str
    name: str
    value: float
    unit: str
    target: float | None = None  # what the issue asks for
    baseline: float | None = None  # what it is compared with when there is no target (a bound, a floor)
    better: str = "lower"
    note: str = ""

    @property
    def reference(self) -> float | None:
        return self.target if self.target is not None else self.baseline

    @property
    def ratio(self) -> float | None:
        """value / reference: at most 1 meets a lower-is-better reference, at least 1 a higher-is-better one."""
        reference = self.reference
        return round(self.value / reference, 3) if reference else None

    @property
    def meets(self) -> bool | None:
        if self.ratio is None or self.target is None:
            return None
        return self.ratio <= 1 if self.better == "lower" else self.ratio >= 1

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "meets_target": self.meets}


# --- adapters: a benchmark's results -> figures -------------------------------------------------------


def _plan_import(rows: list[dict[str, Any]]) -> Iterator[Figure]:
    for row in rows:
        db = row["database"]
        yield Figure(
            "plan_import", f"{db}: import 500 tasks (median of 5)", row["import_s"] * 1000, "ms", 1000
        )
        yield Figure("plan_import", f"{db}: plan detail (median of 5)", row["detail_s"] * 1000, "ms", 150)


def _generation(results: dict[str, list[dict[str, Any]]]) -> Iterator[Figure]:
    for db, rows in results.items():
        for row in rows:
            yield Figure(
                "generation",
                f"{db}: generate {row['tasks']} tasks with the instant sim ({row['calls']} calls)",
                row["seconds"],
                "s",
                baseline=60.0,
                note="our overhead only; baseline: the seeds' 60 s for a hosted-model generation",
            )
            yield Figure(
                "generation", f"{db}: overhead per model call, {row['tasks']} tasks", row["per_call_ms"], "ms"
            )


def _execution(rows: list[dict[str, Any]]) -> Iterator[Figure]:
    for row in rows:
        label = f"{row['configuration']}, {row['tasks']} tasks, parallelism {row['parallelism']}"
        at_target = row["tasks"] == 120 and row["configuration"] == "engine"
        yield Figure(
            "execution",
            f"{label}: makespan / wave bound",
            row["makespan_over_bound"],
            "x",
            target=1.15 if at_target else None,
            baseline=None if at_target else 1.15,
            note=f"makespan {row['makespan_s']} s, bound {row['wave_bound_s']} s",
        )
        yield Figure("execution", f"{label}: execute request returns", row["execute_return_ms"], "ms", 300)
        yield Figure(
            "execution", f"{label}: execute to first task started", row["execute_to_first_task_ms"], "ms", 300
        )
        yield Figure(
            "execution",
            f"{label}: task status visible to another connection, p95",
            row["status_persist_ms_p95"],
            "ms",
            100,
        )
        yield Figure(
            "execution",
            f"{label}: speedup over sequential",
            row["speedup"],
            "x",
            baseline=1.0,
            better="higher",
            note="sequential estimated" if row.get("sequential_estimated") else "",
        )


def _realtime(rows: list[dict[str, Any]]) -> Iterator[Figure]:
    targets = {"in-process": 50.0, "redis": 100.0, "postgres": 100.0}
    for row in rows:
        pace = f"{row['rate_per_s']:.0f}/s" if row.get("rate_per_s") else "burst"
        label = f"{row['path']}, {row['clients']} clients x {row['events']} events, {pace}"
        # A burst measures capacity (queueing dominates); the target applies to a paced stream.
        paced = bool(row.get("rate_per_s"))
        target = targets.get(row["path"])
        yield Figure(
            "realtime",
            f"{label}: commit-to-receipt p99",
            row["p99_ms"],
            "ms",
            target=target if paced else None,
            baseline=None if paced else target,
        )
        yield Figure("realtime", f"{label}: commit-to-receipt p50", row["p50_ms"], "ms")


def _scale(rows: list[dict[str, Any]]) -> Iterator[Figure]:
    for row in rows:
        label = f"{row['workers']} worker(s), {row['plans']} plan(s) x {row['tasks'] // row['plans']} tasks"
        yield Figure(
            "scale",
            f"{label}: makespan",
            row["makespan_s"],
            "s",
            baseline=row["wave_bound_s"],
            note=f"baseline: wave bound ({row['waves']} waves, 1 s tasks, parallelism 64)",
        )
        yield Figure(
            "scale",
            f"{label}: throughput",
            row["throughput_tasks_per_s"],
            "tasks/s",
            baseline=row["bound_throughput_tasks_per_s"],
            better="higher",
            note=f"CPU seconds by process: {row['cpu_s']}",
        )


ADAPTERS: dict[str, Callable[[Any], Iterator[Figure]]] = {
    "plan_import_bench": _plan_import,
    "generation_bench": _generation,
    "execution_bench": _execution,
    "realtime_bench": _realtime,
    "scale_bench": _scale,
}


def _numbers(benchmark: str, result: Any, prefix: str = "") -> Iterator[Figure]:
    """Fallback: every number in the result, without a reference."""
    if isinstance(result, dict):
        for key, value in result.items():
            yield from _numbers(benchmark, value, f"{prefix}{key} ")
    elif isinstance(result, list):
        for index, value in enumerate(result):
            yield from _numbers(benchmark, value, f"{prefix}[{index}] ")
    elif isinstance(result, int | float) and not isinstance(result, bool):
        yield Figure(benchmark.removesuffix("_bench"), prefix.strip(), float(result), "")


def figures(name: str, result: Any) -> list[Figure]:
    adapter = ADAPTERS.get(name)
    if adapter is None:
        return list(_numbers(name, result))
    try:
        return list(adapter(result))
    except (KeyError, TypeError, ValueError) as exc:  # the benchmark changed shape: still report its numbers
        return [*_numbers(name, result), Figure(name, f"(adapter failed: {exc})", float("nan"), "")]


# --- the machine ----------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model, Python and database versions of this machine."""
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(),
        "redis": _redis_version(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "commit": _git_commit(),
    }
    for package in ("dbos", "sqlalchemy", "pydantic-ai-slim", "python-socketio"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _postgres_version() -> str:
    try:
        import psycopg

        dsn = os.environ.get("MASTERPLAN_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "unknown"
    except Exception as exc:
        return f"unavailable ({type(exc).__name__})"


def _redis_version() -> str:
    try:
        import redis

        return str(redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=3).info()["redis_version"])
    except Exception as exc:
        return f"unavailable ({type(exc).__name__})"


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


# --- running one benchmark and writing the report ------------------------------------------------------


def run_one(name: str, out: Path) -> None:
    """Run benchmarks.NAME (its run(), else its main()) and keep what it returned as JSON."""
    module = importlib.import_module(f"benchmarks.{name}")
    if hasattr(module, "run"):
        result = module.run()
    else:
        sys.argv = [name]
        module.main()
        stored = RESULTS / f"{name.removesuffix('_bench')}.json"
        result = json.loads(stored.read_text()) if stored.exists() else None
    out.write_text(json.dumps(result, indent=2, default=str))


def write_report(names: list[str], outcomes: dict[str, str], seconds: dict[str, float]) -> Path:
    """report.json and report.md from benchmarks/results/<name>.json."""
    all_figures: list[Figure] = []
    for name in names:
        path = RESULTS / f"{name}.json"
        if path.exists():
            all_figures += figures(name, json.loads(path.read_text()))
    host = machine()
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": host,
        "benchmarks": {name: _run_info(name, outcomes, seconds) for name in names},
        "figures": [f.as_dict() for f in all_figures],
    }
    (RESULTS / "report.json").write_text(json.dumps(report, indent=2))
    (RESULTS / "report.md").write_text(markdown(report, all_figures))
    return RESULTS / "report.md"


def _run_info(name: str, outcomes: dict[str, str], seconds: dict[str, float]) -> dict[str, Any]:
    """This run's outcome, or the date of the earlier run whose results the report shows."""
    if name in outcomes:
        return {"outcome": outcomes[name], "seconds": round(seconds.get(name, 0.0), 1)}
    path = RESULTS / f"{name}.json"
    if path.exists():
        when = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="minutes")
        return {"outcome": f"not run now; results of {when}", "seconds": None}
    return {"outcome": "not run", "seconds": None}


def markdown(report: dict[str, Any], all_figures: list[Figure]) -> str:
    host = report["machine"]
    lines = [
        "# Benchmark report",
        "",
        f"Generated {report['generated_at']} at commit `{host.get('commit', '')}` by `make bench`.",
        "",
        "## Machine",
        "",
        f"- {host['cores']} cores, {host['memory_gb']} GB memory, {host['cpu_model']}",
        f"- Python {host['python']} on {host['platform']}; load average at the end {host['load_average_1m']}",
        f"- PostgreSQL {host['postgresql']}, SQLite {host['sqlite']}, Redis {host['redis']}",
        f"- DBOS {host.get('dbos', '?')}, SQLAlchemy {host.get('sqlalchemy', '?')}, "
        f"pydantic-ai {host.get('pydantic-ai-slim', '?')}, python-socketio {host.get('python-socketio', '?')}",
        "",
        "## Benchmarks",
        "",
        "| benchmark | outcome | seconds |",
        "|---|---|---|",
    ]
    for name, run in report["benchmarks"].items():
        lines.append(f"| {name} | {run['outcome']} | {'' if run['seconds'] is None else run['seconds']} |")
    lines += [
        "",
        "## Figures",
        "",
        "Ratio = value / reference (the target, or the baseline when there is none). Lower is better unless",
        "the reference says ≥; a target is met when the ratio is ≤ 1 (≥ 1 for higher-is-better).",
        "",
        "| benchmark | figure | value | target | baseline | ratio | met | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in all_figures:
        sign = "≥ " if f.better == "higher" else "≤ "
        target = f"{sign}{_num(f.target)} {f.unit}" if f.target is not None else ""
        baseline = f"{_num(f.baseline)} {f.unit}" if f.baseline is not None else ""
        met = {True: "yes", False: "**no**", None: ""}[f.meets]
        ratio = _num(f.ratio) if f.ratio is not None else ""
        lines.append(
            f"| {f.benchmark} | {f.name} | {_num(f.value)} {f.unit} | {target} | {baseline} | {ratio} | {met} | {f.note} |"
        )
    return "\n".join(lines) + "\n"


def _num(value: float | None) -> str:
    if value is None:
        return ""
    if value != value:  # NaN
        return "n/a"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "run":
        run_one(sys.argv[2], Path(sys.argv[3]))
    else:
        print("usage: python -m benchmarks.report run NAME OUT.json", file=sys.stderr)
        sys.exit(2)
