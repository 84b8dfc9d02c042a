"""Replay: a client that leaves mid-execution and rejoins with its last seq ends exactly where a client
that never left ends: every seq 1..N once, in order, and the same folded state."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

import pytest

from masterplan.events import plan_stream, record_event
from masterplan.models import Masterplan, Task, User
from masterplan.plans.service import change_plan_status
from masterplan.realtime.client import RealtimeClient, ReceivedEvent
from masterplan.runtime import Runtime, build_runtime
from tests.conftest import TOKEN
from tests.realtime.conftest import serve
from tests.realtime.support import create_plan, free_port, record_progress


def run_execution(runtime: Runtime, plan_id: uuid.UUID, pause: float = 0.003) -> int:
    """Commit what an execution reports: status changes and progress/completion per task."""
    with runtime.transaction() as session:
        plan = session.get(Masterplan, plan_id)
        assert plan is not None
        change_plan_status(session, plan, "approved", actor=None, action="approved")
    with runtime.transaction() as session:
        plan = session.get(Masterplan, plan_id)
        assert plan is not None
        change_plan_status(session, plan, "in_progress", actor=None, action="started")
        tasks = [(t.id, t.task_number) for t in session.query(Task).filter(Task.masterplan_id == plan_id)]
    for done, (task_id, number) in enumerate(sorted(tasks, key=lambda t: t[1]), start=1):
        for status in ("in_progress", "validating"):
            with runtime.transaction() as session:
                record_event(
                    session,
                    plan_stream(plan_id),
                    "task_execution_progress",
                    {"task_id": task_id, "task_number": number, "status": status, "total_tasks": len(tasks)},
                    masterplan_id=plan_id,
                )
            time.sleep(pause)
        with runtime.transaction() as session:
            task = session.get(Task, task_id)
            assert task is not None
            task.status = "completed"
            record_event(
                session,
                plan_stream(plan_id),
                "task_execution_complete",
                {
                    "task_id": task_id,
                    "status": "completed",
                    "output_files": [f"src/t{number}.py"],
                    "completed_tasks": done,
                    "total_tasks": len(tasks),
                },
                masterplan_id=plan_id,
            )
    with runtime.transaction() as session:
        plan = session.get(Masterplan, plan_id)
        assert plan is not None
        change_plan_status(session, plan, "completed", actor=None, action="completed")
    with runtime.reading() as session:
        from masterplan.events.store import events_after

        return events_after(session, plan_stream(plan_id), 0, 100_000)[-1].seq


def fold(events: list[ReceivedEvent]) -> dict[str, Any]:
    """The plan state a UI builds from the events it received."""
    state: dict[str, Any] = {"status": "draft", "tasks": {}, "completed": 0}
    for event in events:
        if event.type == "masterplan_status_changed":
            state["status"] = event.payload["status"]
        elif event.type in ("task_execution_progress", "task_execution_complete"):
            state["tasks"][event.payload["task_id"]] = event.payload["status"]
        if event.type == "task_execution_complete":
            state["completed"] = event.payload["completed_tasks"]
    return state


async def collect_until(client: RealtimeClient, last: int, into: list[ReceivedEvent]) -> None:
    while not into or into[-1].seq < last:
        into.append(await client.next_event(20))


async def test_reconnect_with_last_seq_resumes_without_gaps_or_duplicates(
    server_url: str, runtime: Runtime, local_user: User
) -> None:
    plan_id = create_plan(runtime, local_user, tasks=12)
    steady: list[ReceivedEvent] = []
    leaver: list[ReceivedEvent] = []
    async with RealtimeClient(server_url, TOKEN) as watcher, RealtimeClient(server_url, TOKEN) as first:
        await watcher.join_masterplan(plan_id, last_seq=0)
        await first.join_masterplan(plan_id, last_seq=0)
        producer = asyncio.create_task(asyncio.to_thread(run_execution, runtime, plan_id))
        while len(leaver) < 10:
            leaver.append(await first.next_event(20))
        await first.close()
        seen = leaver[-1].seq
        await asyncio.sleep(0.05)  # execution goes on while this client is away

        async with RealtimeClient(server_url, TOKEN) as second:
            ack = await second.join_masterplan(plan_id, last_seq=seen)
            total = await producer
            assert ack["last_seq"] >= seen
            await collect_until(second, total, leaver)
            await collect_until(watcher, total, steady)

    expected = list(range(1, total + 1))
    assert [e.seq for e in steady] == expected
    assert [e.seq for e in leaver] == expected
    assert fold(leaver) == fold(steady)
    assert fold(steady)["status"] == "completed"
    assert fold(steady)["completed"] == 12
    assert set(fold(steady)["tasks"].values()) == {"completed"}
    with runtime.reading() as session:
        plan = session.get(Masterplan, plan_id)
        assert plan is not None and plan.status == fold(leaver)["status"]


async def test_joins_during_concurrent_commits_see_each_seq_once_in_order(
    server_url: str, runtime: Runtime, local_user: User
) -> None:
    """Writers on four threads publish after commit in any order; every client still gets 1..N."""
    plan_id = create_plan(runtime, local_user)
    writers, per_writer = 4, 60
    start = threading.Barrier(writers)
    joined = threading.Event()

    def write() -> None:
        start.wait()
        record_progress(runtime, plan_id, per_writer - 1)
        # Each writer's last event waits for the last join: on a loaded machine the writers once
        # finished first, and the live-only client waited for an event that never came.
        if not joined.wait(timeout=30):
            raise AssertionError("the clients did not join in time")
        record_progress(runtime, plan_id, 1)

    total = writers * per_writer
    clients = [RealtimeClient(server_url, TOKEN) for _ in range(4)]
    for client in clients:
        await client.connect()
    received: list[list[ReceivedEvent]] = [[] for _ in clients]
    try:
        await clients[0].join_masterplan(plan_id, last_seq=0)
        threads = [asyncio.create_task(asyncio.to_thread(write)) for _ in range(writers)]
        await asyncio.sleep(0.05)
        await clients[1].join_masterplan(plan_id, last_seq=0)
        await asyncio.sleep(0.05)
        await clients[2].join_masterplan(plan_id, last_seq=5)
        live_ack = await clients[3].join_masterplan(plan_id)
        joined.set()
        await asyncio.gather(*threads)
        for client, into in zip(clients, received, strict=True):
            await collect_until(client, total, into)
    finally:
        joined.set()
        for client in clients:
            await client.close()

    assert [e.seq for e in received[0]] == list(range(1, total + 1))
    assert [e.seq for e in received[1]] == list(range(1, total + 1))
    assert [e.seq for e in received[2]] == list(range(6, total + 1))
    live_start = live_ack["last_seq"] + 1
    assert [e.seq for e in received[3]] == list(range(live_start, total + 1))


async def test_live_only_join_gets_new_events_not_history(
    server_url: str, runtime: Runtime, local_user: User
) -> None:
    plan_id = create_plan(runtime, local_user)
    record_progress(runtime, plan_id, 5)
    async with RealtimeClient(server_url, TOKEN) as client:
        ack = await client.join_masterplan(plan_id)
        assert ack == {"ok": True, "stream": plan_stream(plan_id), "replayed": 0, "last_seq": 5}
        await asyncio.to_thread(record_progress, runtime, plan_id, 2, 6)
        got = [await client.next_event(10), await client.next_event(10)]
    assert [(e.seq, e.payload["task_number"]) for e in got] == [(6, 6), (7, 7)]
    assert got[0].payload["masterplan_id"] == str(plan_id)
    assert got[0].stream == plan_stream(plan_id)
    assert got[0].typed().trace_id == ""


async def test_events_committed_by_a_process_without_pubsub_arrive_from_the_log(
    server_url: str, runtime: Runtime, local_user: User
) -> None:
    """A second runtime on the same database, not connected to this server by any pub/sub."""
    plan_id = create_plan(runtime, local_user)
    other = build_runtime(runtime.settings, migrate=False)
    try:
        async with RealtimeClient(server_url, TOKEN) as client:
            await client.join_masterplan(plan_id, last_seq=0)
            await asyncio.to_thread(record_progress, other, plan_id, 3)
            got = [await client.next_event(10) for _ in range(3)]
    finally:
        other.close()
    assert [e.seq for e in got] == [1, 2, 3]


async def test_rejoining_the_same_room_replays_from_the_new_last_seq(
    server_url: str, runtime: Runtime, local_user: User
) -> None:
    plan_id = create_plan(runtime, local_user)
    record_progress(runtime, plan_id, 4)
    async with RealtimeClient(server_url, TOKEN) as client:
        await client.join_masterplan(plan_id, last_seq=0)
        first = [await client.next_event(10) for _ in range(4)]
        ack = await client.join_masterplan(plan_id, last_seq=2)
        again = [await client.next_event(10) for _ in range(2)]
        await asyncio.to_thread(record_progress, runtime, plan_id, 1, 5)
        live = await client.next_event(10)
    assert [e.seq for e in first] == [1, 2, 3, 4]
    assert ack["replayed"] == 2
    assert [e.seq for e in again] == [3, 4]
    assert live.seq == 5


@pytest.mark.slow
async def test_the_client_reconnects_by_itself_and_resumes_after_a_server_restart(
    runtime: Runtime, local_user: User
) -> None:
    plan_id = create_plan(runtime, local_user)
    port = free_port()
    client = RealtimeClient(f"http://127.0.0.1:{port}", TOKEN)
    got: list[ReceivedEvent] = []
    try:
        with serve(runtime, port):
            await client.connect()
            await client.join_masterplan(plan_id, last_seq=0)
            await asyncio.to_thread(record_progress, runtime, plan_id, 5)
            got += [await client.next_event(10) for _ in range(5)]
        await asyncio.to_thread(record_progress, runtime, plan_id, 5, 6)  # while no server runs
        with serve(runtime, port):
            got += [await client.next_event(30) for _ in range(5)]
            await asyncio.to_thread(record_progress, runtime, plan_id, 5, 11)
            got += [await client.next_event(10) for _ in range(5)]
    finally:
        await client.close()
    assert [e.seq for e in got] == list(range(1, 16))
    assert client.last_seq(plan_stream(plan_id)) == 15
