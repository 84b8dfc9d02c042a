"""Commit-to-receipt latency of live events: 50 Socket.IO clients in one plan's room, 1,000 events.

Three paths, each with a real uvicorn server in its own process and the clients in other processes:
- in-process: the API process itself commits the events (its bus feeds its sockets), on SQLite;
- redis: a second process commits them and they reach the API process through Redis (SQLite);
- postgres: the same on PostgreSQL without Redis, through PostgreSQL notifications.
Latency = the client's receipt time minus the producer's time right after the commit returned
(same machine, same wall clock). Every client must receive seq 1..N exactly once, in order.
Targets (issue 5): p99 <= 50 ms in-process, <= 100 ms across processes (the seeds' floor: 500 ms).

Run: .venv/bin/python -m benchmarks.realtime_bench [--clients 50] [--events 1000] [--rate 100 0]
--rate is events per second from the producer; 0 commits them back to back (a burst, which measures
capacity: queueing dominates). The clients run in --client-processes processes (default 2), as real
clients run on their own machines; server and client CPU per message are printed as well, since on a
shared machine the load average moves the latency figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from masterplan.config import Settings
from masterplan.events import plan_stream, record_event
from masterplan.events.schemas import TaskExecutionProgress
from masterplan.runtime import Runtime, build_runtime

TOKEN = "mp_bench_token"
REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[1]
TARGETS_MS = {"in-process": 50.0, "redis": 100.0, "postgres": 100.0}
RESULTS = ROOT / "benchmarks" / "results" / "realtime.json"


def bench_settings(data_dir: Path, redis_url: str = "", database_url: str = "") -> Settings:
    return Settings(
        _env_file=None,
        data_dir=data_dir,
        database_url=database_url or f"sqlite:///{data_dir / 'bench.db'}",
        local_token=SecretStr(TOKEN),
        redis_url=redis_url,
        model="sim",
    )


def produce(runtime: Runtime, plan_id: uuid.UUID, count: int, rate: float, out: Path) -> None:
    """Commit `count` events, one transaction each, paced at `rate`/s; write seq -> commit time."""
    committed: dict[int, float] = {}
    interval = 1.0 / rate if rate > 0 else 0.0
    start = time.perf_counter()
    for n in range(1, count + 1):
        with runtime.transaction() as session:
            event = record_event(
                session,
                plan_stream(plan_id),
                "task_execution_progress",
                TaskExecutionProgress(
                    task_id=uuid.uuid4(), task_number=n, status="in_progress", total_tasks=count
                ),
                masterplan_id=plan_id,
            )
        committed[event.seq] = time.time()
        delay = start + n * interval - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    out.write_text(json.dumps(committed))


# --- subprocess roles ---


def serve_role(data_dir: Path, redis_url: str, database_url: str) -> None:
    """The API process: serve on a free port; on stdin 'produce <plan> <count> <rate> <out>' commit events."""
    import uvicorn
    from tests.realtime.support import free_port

    from masterplan.auth.tokens import ensure_local_user
    from masterplan.plans import service
    from masterplan.plans.synthetic import synthetic_plan
    from masterplan.realtime.server import create_asgi_app

    settings = bench_settings(data_dir, redis_url, database_url)
    runtime = build_runtime(settings)
    with runtime.transaction() as session:
        user = ensure_local_user(session, settings)
        plan_id = service.create_plan(session, user, synthetic_plan(5, seed=1)).id
    port = free_port()
    config = uvicorn.Config(
        create_asgi_app(runtime=runtime),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=2,
        ws=os.environ.get("BENCH_WS", "auto"),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sys.exit("the API server did not start; see its log above")
        time.sleep(0.02)
    print(f"ready http://127.0.0.1:{port} {plan_id}", flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command == "produce":
            produce(runtime, uuid.UUID(args[0]), int(args[1]), float(args[2]), Path(args[3]))
            print("produced", flush=True)
        elif command == "quit":
            break
    server.should_exit = True
    thread.join(10)
    runtime.close()


def produce_role(
    data_dir: Path, plan_id: str, count: int, rate: float, out: Path, redis_url: str, database_url: str
) -> None:
    """The worker process: commit events; they reach the API process through Redis or PostgreSQL."""
    runtime = build_runtime(bench_settings(data_dir, redis_url, database_url), migrate=False)
    try:
        produce(runtime, uuid.UUID(plan_id), count, rate, out)
    finally:
        runtime.close()


# --- clients ---


async def clients_role(url: str, plan_id: str, clients: int, count: int) -> dict[str, Any]:
    """A process holding `clients` real Socket.IO clients: join, say ready, record every event's receipt."""
    from masterplan.realtime.client import RealtimeClient

    conns = [RealtimeClient(url, TOKEN) for _ in range(clients)]
    await asyncio.gather(*(c.connect() for c in conns))
    await asyncio.gather(*(c.join_masterplan(plan_id, last_seq=0) for c in conns))
    received: list[dict[int, float]] = [{} for _ in conns]
    orders: list[list[int]] = [[] for _ in conns]

    async def drain(index: int) -> None:
        async for event in conns[index].events():
            received[index][event.seq] = event.received_at
            orders[index].append(event.seq)
            if len(orders[index]) == count:
                return

    tasks = [asyncio.create_task(drain(i)) for i in range(clients)]
    gc.collect()
    gc.freeze()  # as the server does: a full GC pass over the startup heap is not event latency
    print("ready", flush=True)
    started = time.process_time()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=120 + count / 10)
    cpu = time.process_time() - started
    await asyncio.gather(*(c.close() for c in conns))
    in_order = sum(1 for order in orders if order == list(range(1, count + 1)))
    return {"received": received, "in_order": in_order, "cpu_s": cpu}


# --- driver ---


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spawn(*args: str, stdin: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.realtime_bench", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE if stdin else None,
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_line(process: subprocess.Popen[str], prefix: str) -> str:
    """The first line the process prints that starts with prefix (its logs may come before)."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(prefix):
            return line.strip()
    raise RuntimeError(f"{process.args} ended (exit code {process.wait()}) before printing {prefix!r}")


def latency_figures(committed: dict[int, float], received: list[dict[int, float]]) -> dict[str, float]:
    samples = sorted((at - committed[seq]) * 1000 for client in received for seq, at in client.items())
    return {
        "samples": len(samples),
        "p50_ms": statistics.median(samples),
        "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        "max_ms": samples[-1],
    }


def run_path(path: str, clients: int, count: int, rate: float, client_processes: int) -> dict[str, Any]:
    """One measurement on a fresh database (PostgreSQL for the postgres path, else SQLite)."""
    if path != "postgres":
        return measure(path, clients, count, rate, client_processes, "-")
    from tests.fixtures.database import postgres_database

    with postgres_database() as url:
        return measure(path, clients, count, rate, client_processes, url)


def measure(
    path: str, clients: int, count: int, rate: float, client_processes: int, database_url: str
) -> dict[str, Any]:
    """Server, client processes, producer (in the server, or in its own process across the fan-out)."""
    redis_url = REDIS_URL if path == "redis" else "-"
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        server = spawn("serve", str(data_dir), redis_url, database_url, stdin=True)
        assert server.stdin is not None and server.stdout is not None
        try:
            _, url, plan_id = wait_line(server, "ready").split()
            shares = [
                clients // client_processes + (i < clients % client_processes)
                for i in range(client_processes)
            ]
            outs = [data_dir / f"received-{i}.json" for i in range(client_processes)]
            readers = [
                spawn("clients", url, plan_id, str(n), str(count), str(o))
                for n, o in zip(shares, outs, strict=True)
            ]
            for reader in readers:
                wait_line(reader, "ready")
            committed_file = data_dir / "committed.json"
            cpu_before = process_cpu(server.pid)
            if path != "in-process":
                args = [
                    str(data_dir),
                    plan_id,
                    str(count),
                    str(rate),
                    str(committed_file),
                    redis_url,
                    database_url,
                ]
                spawn("produce", *args).wait()
            else:
                server.stdin.write(f"produce {plan_id} {count} {rate} {committed_file}\n")
                server.stdin.flush()
                wait_line(server, "produced")
            for reader in readers:
                if reader.wait(300) != 0:
                    raise RuntimeError("a client process failed")
            server_cpu = process_cpu(server.pid) - cpu_before
        finally:
            if server.poll() is None:
                server.stdin.write("quit\n")
                server.stdin.flush()
                server.wait(30)
        committed = {int(k): v for k, v in json.loads(committed_file.read_text()).items()}
        results = [json.loads(o.read_text()) for o in outs]
    received = [{int(k): v for k, v in client.items()} for r in results for client in r["received"]]
    in_order = sum(r["in_order"] for r in results)
    if in_order != clients:
        raise AssertionError(
            f"{clients - in_order} clients did not get seq 1..{count} exactly once, in order"
        )
    return {
        "path": path,
        "clients": clients,
        "events": count,
        "rate_per_s": rate,
        **latency_figures(committed, received),
        "committed_per_s": (count - 1) / max(max(committed.values()) - min(committed.values()), 1e-9),
        "server_cpu_us_per_message": server_cpu / (clients * count) * 1e6,
        "client_cpu_us_per_message": sum(r["cpu_s"] for r in results) / (clients * count) * 1e6,
        "load_average": os.getloadavg()[0],
    }


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over repeated runs (a shared machine's load moves single runs), with the worst p99."""
    first = rows[0]
    median = {
        key: statistics.median(r[key] for r in rows)
        for key in first
        if key.endswith(("_ms", "_message")) or key == "committed_per_s"
    }
    return {
        **{k: first[k] for k in ("path", "clients", "events", "rate_per_s")},
        "runs": len(rows),
        **median,
        "worst_p99_ms": max(r["p99_ms"] for r in rows),
        "load_average": statistics.median(r["load_average"] for r in rows),
    }


def describe(row: dict[str, Any]) -> str:
    target = TARGETS_MS[row["path"]]
    pace = f"{row['rate_per_s']:.0f}/s" if row["rate_per_s"] else "burst"
    return (
        f"{row['path']:>10} {pace:>6} (committed {row['committed_per_s']:.0f}/s): "
        f"{row['clients']} clients x {row['events']} events, median of "
        f"{row['runs']}: p50 {row['p50_ms']:6.1f} ms, p99 {row['p99_ms']:7.1f} ms (target {target:.0f}, "
        f"ratio {row['p99_ms'] / target:5.2f}; worst run {row['worst_p99_ms']:.1f}), max {row['max_ms']:7.1f} ms; "
        f"CPU per message: server {row['server_cpu_us_per_message']:.0f} us, clients "
        f"{row['client_cpu_us_per_message']:.0f} us; load average {row['load_average']:.1f}"
    )


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Commit-to-receipt latency of live events.")
    parser.add_argument("role", nargs="?", default="bench", choices=["bench", "serve", "produce", "clients"])
    parser.add_argument("args", nargs="*")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rate", type=float, nargs="*", default=[100.0, 0.0], help="events/s; 0 is a burst")
    parser.add_argument("--paths", nargs="*", default=["in-process", "redis", "postgres"])
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration (medians reported)")
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Every configuration, `repeat` times each; prints and returns the medians (each run kept inside)."""
    options = parse(argv or [])
    summary: list[dict[str, Any]] = []
    for rate in options.rate:
        for path in options.paths:
            rows = [
                run_path(path, options.clients, options.events, rate, options.client_processes)
                for _ in range(options.repeat)
            ]
            summary.append({**summarize(rows), "each_run": rows})
            print(describe(summary[-1]), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2))
    return summary


def main() -> None:
    options = parse(sys.argv[1:])
    if options.role == "serve":
        data_dir, redis_url, database_url = (a if a != "-" else "" for a in options.args)
        serve_role(Path(data_dir), redis_url, database_url)
    elif options.role == "produce":
        data_dir, plan_id, count, rate, out, redis_url, database_url = (
            a if a != "-" else "" for a in options.args
        )
        produce_role(Path(data_dir), plan_id, int(count), float(rate), Path(out), redis_url, database_url)
    elif options.role == "clients":
        url, plan_id, clients, count, out = options.args
        Path(out).write_text(json.dumps(asyncio.run(clients_role(url, plan_id, int(clients), int(count)))))
    else:
        run(sys.argv[1:])


if __name__ == "__main__":
    main()
