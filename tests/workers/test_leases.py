"""Leases: renewal, recovery of expired or released executors (exactly once), and fencing of a runner that
lost its lease."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, update

from masterplan.models import WorkerLease
from masterplan.runtime import Runtime
from masterplan.workers.leases import Lease

# PostgreSQL only (leases need it): run once, in the PostgreSQL pass.
pytestmark = pytest.mark.postgres


class Recorder:
    """Stands in for DBOS's recovery call and for the process exit, recording what was asked."""

    def __init__(self) -> None:
        self.recovered: list[str] = []
        self.lost: list[str] = []
        self.lock = threading.Lock()

    def recover(self, executor_id: str) -> int:
        with self.lock:
            self.recovered.append(executor_id)
        return 1

    def on_lost(self, reason: str) -> None:
        self.lost.append(reason)


@contextmanager
def lease(runtime: Runtime, name: str, recorder: Recorder, seconds: float = 10.0) -> Iterator[Lease]:
    held = Lease(
        runtime, name, "worker", lease_seconds=seconds, on_lost=recorder.on_lost, recover=recorder.recover
    )
    held.claim()
    try:
        yield held
    finally:
        held.stop(release=False)


def age(runtime: Runtime, executor_id: str, seconds: float) -> None:
    """Pretend the executor's last renewal was `seconds` ago (database clock)."""
    with runtime.transaction() as session:
        session.execute(
            update(WorkerLease)
            .where(WorkerLease.executor_id == executor_id)
            .values(heartbeat_at=func.now() - timedelta(seconds=seconds))
        )


def expired(runtime: Runtime, executor_id: str) -> bool:
    """Whether peers may now call the executor dead (database clock)."""
    with runtime.reading() as session:
        row = session.execute(
            select(WorkerLease.heartbeat_at, WorkerLease.lease_seconds, func.now()).where(
                WorkerLease.executor_id == executor_id
            )
        ).one()
    heartbeat_at, seconds, now = row
    return bool(heartbeat_at + timedelta(seconds=seconds) < now)


def executors(runtime: Runtime) -> set[str]:
    with runtime.reading() as session:
        return set(session.scalars(select(WorkerLease.executor_id)))


def test_a_live_lease_is_left_alone_and_an_expired_one_is_recovered_once(pg_runtime: Runtime) -> None:
    recorder = Recorder()
    with (
        lease(pg_runtime, "alive", recorder),
        lease(pg_runtime, "dead", recorder),
        lease(pg_runtime, "me", recorder) as me,
    ):
        assert me.recover_dead_peers() == []
        age(pg_runtime, "dead", 11)
        assert me.recover_dead_peers() == ["dead"]
        assert me.recover_dead_peers() == []
        assert recorder.recovered == ["dead"]
        assert executors(pg_runtime) == {"alive", "me"}


def test_a_released_lease_is_recovered_at_once(pg_runtime: Runtime) -> None:
    recorder = Recorder()
    with lease(pg_runtime, "me", recorder) as me:
        stopping = Lease(pg_runtime, "stopping", "worker", lease_seconds=10, recover=recorder.recover)
        stopping.claim()
        stopping.stop(release=True)
        assert me.recover_dead_peers() == ["stopping"]
        assert recorder.recovered == ["stopping"]


def test_two_recoverers_recover_a_dead_executor_exactly_once(pg_runtime: Runtime) -> None:
    recorder = Recorder()
    with (
        lease(pg_runtime, "a", recorder) as a,
        lease(pg_runtime, "b", recorder) as b,
        lease(pg_runtime, "dead", recorder),
    ):
        age(pg_runtime, "dead", 30)
        results: list[list[str]] = []
        threads = [
            threading.Thread(target=lambda r=r: results.append(r.recover_dead_peers())) for r in (a, b)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(map(len, results)) == [0, 1]
    assert recorder.recovered == ["dead"]


def test_a_runner_whose_lease_was_taken_over_stops(pg_runtime: Runtime) -> None:
    recorder = Recorder()
    with lease(pg_runtime, "same-id", recorder) as first:
        assert first.renew()
        second = Lease(pg_runtime, "same-id", "worker", lease_seconds=10, on_lost=recorder.on_lost)
        second.claim()  # a restarted process with the same executor id takes the row over
        assert not first.renew()
        second.stop(release=False)


def test_a_runner_that_cannot_renew_fences_itself_before_peers_may_recover_it(pg_runtime: Runtime) -> None:
    expired_when_fenced: list[bool] = []
    held = Lease(
        pg_runtime,
        "cut-off",
        "worker",
        lease_seconds=2.0,
        on_lost=lambda _reason: expired_when_fenced.append(expired(pg_runtime, "cut-off")),
        recover=Recorder().recover,
    )
    held.start()
    try:
        # The database becomes unreachable for this runner: its renewals fail from now on.
        held.engine.dispose()
        held.engine = create_engine(
            "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
        )
        deadline = time.monotonic() + 10
        while not expired_when_fenced and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        held.stop(release=False)
    assert expired_when_fenced == [False], "the runner stopped while its lease still protected it"
    deadline = time.monotonic() + 10
    while not expired(pg_runtime, "cut-off"):
        assert time.monotonic() < deadline, "peers may recover it once the lease ran out"
        time.sleep(0.1)


def test_a_slow_recovery_scan_never_delays_the_renewals(pg_runtime: Runtime) -> None:
    """A busy process (its pools exhausted) may take long to scan its peers; it must keep its lease."""
    recorder = Recorder()
    held = Lease(
        pg_runtime, "busy", "worker", lease_seconds=2.0, on_lost=recorder.on_lost, recover=recorder.recover
    )
    scanning = threading.Event()

    def slow_scan() -> list[str]:
        scanning.set()
        time.sleep(3.0)  # longer than the whole lease
        return []

    held.recover_dead_peers = slow_scan  # type: ignore[method-assign]
    held.start()
    try:
        assert scanning.wait(5)
        time.sleep(3.0)
        assert recorder.lost == []
        assert not expired(pg_runtime, "busy")
    finally:
        held.stop(release=False)
