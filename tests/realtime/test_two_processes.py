"""Two processes: events committed by a worker process reach a client of the API process through Redis."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from masterplan.auth.tokens import ensure_local_user
from masterplan.models import User
from masterplan.realtime.client import RealtimeClient, ReceivedEvent
from masterplan.runtime import Runtime, build_runtime
from tests.conftest import TOKEN, make_settings
from tests.fixtures import database
from tests.realtime.conftest import serve
from tests.realtime.support import create_plan, record_progress

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture
def redis_runtime(tmp_path: Path, db_url: str) -> Iterator[Runtime]:
    """The API process's runtime: Redis fan-out on, and no polling of the log, so only Redis can deliver."""
    redis.Redis.from_url(REDIS_URL).ping()
    settings = make_settings(tmp_path / "data", db_url, redis_url=REDIS_URL, events_poll_seconds=0)
    runtime = build_runtime(settings)
    with runtime.transaction() as session:
        ensure_local_user(session, settings)
    yield runtime
    runtime.close()


def start_worker(
    runtime: Runtime, plan_id: object, count: int, start: int, redis_url: str = REDIS_URL, blob_bytes: int = 0
) -> subprocess.Popen[str]:
    """A second process committing `count` events (publishing through Redis unless redis_url is empty)."""
    settings = runtime.settings
    args = [str(settings.data_dir), settings.resolved_database_url, redis_url or "-", str(plan_id)]
    args += [str(count), str(start), str(blob_bytes)]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.realtime.producer", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_worker_events_reach_the_api_process_through_redis(redis_runtime: Runtime) -> None:
    runtime = redis_runtime
    with runtime.reading() as session:
        owner = session.query(User).filter(User.email == "local@masterplan").one()
        session.expunge(owner)
    plan_id = create_plan(runtime, owner)
    with serve(runtime) as url:
        async with RealtimeClient(url, TOKEN) as client:
            await client.join_masterplan(plan_id, last_seq=0)
            # Only Redis can bring these: the log is not polled and nothing here commits meanwhile.
            worker = start_worker(runtime, plan_id, 40, start=1)
            out, err = await asyncio.to_thread(worker.communicate, timeout=60)
            assert worker.returncode == 0, err
            got: list[ReceivedEvent] = [await client.next_event(10) for _ in range(40)]
            # The API process's own events must not come back a second time through Redis.
            await asyncio.to_thread(record_progress, runtime, plan_id, 10, 100)
            got += [await client.next_event(10) for _ in range(10)]
            with pytest.raises(TimeoutError):
                await client.next_event(0.5)
    assert [e.seq for e in got] == list(range(1, 51))
    assert [e.payload["task_number"] for e in got[:40]] == list(range(1, 41))
    assert {e.payload.get("source") for e in got[:40]} == {"worker"}
    assert "committed 40" in out


async def test_the_api_process_starts_even_when_redis_is_down(tmp_path: Path, db_url: str) -> None:
    """A dead Redis costs cross-process fan-out, not the server: local events still flow."""
    settings = make_settings(tmp_path / "data", db_url, redis_url="redis://127.0.0.1:1/0")
    runtime = build_runtime(settings)
    try:
        with runtime.transaction() as session:
            owner = ensure_local_user(session, settings)
            session.expunge(owner)
        plan_id = create_plan(runtime, owner)
        with serve(runtime) as url:
            async with RealtimeClient(url, TOKEN) as client:
                await client.join_masterplan(plan_id, last_seq=0)
                await asyncio.to_thread(record_progress, runtime, plan_id, 2)
                got = [await client.next_event(10), await client.next_event(10)]
        assert [e.seq for e in got] == [1, 2]
    finally:
        runtime.close()


@pytest.mark.skipif(
    database.test_backend() != "postgresql", reason="PostgreSQL notifications need PostgreSQL"
)
async def test_without_redis_worker_events_arrive_through_postgres_notifications(
    tmp_path: Path, db_url: str
) -> None:
    settings = make_settings(tmp_path / "data", db_url, events_poll_seconds=0)
    runtime = build_runtime(settings)
    try:
        with runtime.transaction() as session:
            owner = ensure_local_user(session, settings)
            session.expunge(owner)
        plan_id = create_plan(runtime, owner)
        with serve(runtime) as url:
            async with RealtimeClient(url, TOKEN) as client:
                await client.join_masterplan(plan_id, last_seq=0)
                worker = start_worker(runtime, plan_id, 20, start=1, redis_url="")
                _out, err = await asyncio.to_thread(worker.communicate, timeout=60)
                assert worker.returncode == 0, err
                got = [await client.next_event(10) for _ in range(20)]
                # Too big for one notification: only its stream travels, the content comes from the log.
                big = start_worker(runtime, plan_id, 1, start=21, redis_url="", blob_bytes=9000)
                _out, err = await asyncio.to_thread(big.communicate, timeout=60)
                assert big.returncode == 0, err
                got.append(await client.next_event(10))
    finally:
        runtime.close()
    assert [e.seq for e in got] == list(range(1, 22))
    assert len(got[-1].payload["blob"]) == 9000
