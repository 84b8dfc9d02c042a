"""Leases: how the processes that run workflows on a shared PostgreSQL database learn that one of them died.

DBOS recovers only its own executor id at launch. Each runner (a `masterplan worker`, or a `masterplan
serve` that runs workflows itself) therefore keeps a row in `worker_leases` and renews it every
min(lease/5, 2) seconds. A row not renewed for `lease_seconds` (database clock), or released by a
graceful stop, belongs to a dead executor: a live runner locks that row, hands the executor's pending
workflows back to their queues through DBOS's recovery (a queue hands a workflow to exactly one
dequeuer) and deletes it.

Never twice at once: a runner that has not renewed for FENCE_FRACTION of its lease exits at once
(os._exit), before any peer may call it dead, and one whose row was taken over or recovered exits too.
An in-flight step then runs again elsewhere, which steps are written to allow.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import structlog
from dbos import DBOS
from sqlalchemy import Engine, create_engine, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from masterplan.db import normalize_url
from masterplan.models import WorkerLease
from masterplan.runtime import Runtime

log = structlog.get_logger(__name__)

FENCE_FRACTION = 0.6
FENCED_EXIT_CODE = 75
ORPHAN_SWEEP_TICKS = 10


def _exit_process(reason: str) -> None:
    log.critical("lease_lost_exiting", reason=reason)
    os._exit(FENCED_EXIT_CODE)


class Lease:
    """This process's claim on its executor id, renewed in the database by a background thread."""

    def __init__(
        self,
        runtime: Runtime,
        executor_id: str,
        role: str,
        *,
        lease_seconds: float,
        on_lost: Callable[[str], None] = _exit_process,
        recover: Callable[[str], int] | None = None,
        sweep: Callable[[], object] | None = None,
    ) -> None:
        self.runtime = runtime
        self.executor_id = executor_id
        self.role = role
        self.lease_seconds = lease_seconds
        self.instance = uuid.uuid4().hex
        self.on_lost = on_lost
        self.recover = recover or recover_executor
        self.sweep = sweep
        self.recovered: list[str] = []
        self._stop = threading.Event()
        self._renewed = time.monotonic()
        self._threads: list[threading.Thread] = []
        # Its own small pool: renewals must not wait behind the application's connections.
        self.engine: Engine = create_engine(
            normalize_url(runtime.settings.resolved_database_url),
            pool_size=1,
            max_overflow=1,
            pool_pre_ping=True,
            connect_args={"connect_timeout": max(1, int(lease_seconds / 5))},
        )

    @property
    def interval(self) -> float:
        """Renewals (and looks at the peers) at least every 2 s, at least 5 per lease."""
        return min(self.lease_seconds / 5, 2.0)

    def claim(self) -> None:
        """Insert (or take over) this executor's row."""
        values = {
            "executor_id": self.executor_id,
            "instance": self.instance,
            "role": self.role,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "lease_seconds": self.lease_seconds,
        }
        statement = insert(WorkerLease).values(**values, started_at=func.now(), heartbeat_at=func.now())
        statement = statement.on_conflict_do_update(
            index_elements=[WorkerLease.executor_id],
            set_={
                **{k: statement.excluded[k] for k in values if k != "executor_id"},
                "started_at": func.now(),
                "heartbeat_at": func.now(),
                "released_at": None,
            },
        )
        sent = time.monotonic()
        with self.engine.begin() as conn:
            conn.execute(statement)
        self._renewed = sent

    def start(self) -> None:
        """Claim the row, then renew it, recover dead peers and watch for a lost lease in the background."""
        self.claim()
        for target, name in ((self._renew_loop, "renew"), (self._scan_loop, "scan"), (self._watch, "watch")):
            thread = threading.Thread(target=target, name=f"masterplan-lease-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info(
            "lease_taken", executor_id=self.executor_id, role=self.role, lease_seconds=self.lease_seconds
        )

    def renew(self) -> bool:
        """Renew the row; False when it no longer belongs to this process (then the lease is lost)."""
        sent = time.monotonic()
        with self.engine.begin() as conn:
            result = conn.execute(
                update(WorkerLease)
                .where(WorkerLease.executor_id == self.executor_id, WorkerLease.instance == self.instance)
                .where(WorkerLease.released_at.is_(None))
                .values(heartbeat_at=func.now())
            )
        if result.rowcount == 0:
            return False
        self._renewed = sent
        return True

    def recover_dead_peers(self) -> list[str]:
        """Hand back the pending workflows of every expired or released executor; returns their ids."""
        with self.engine.connect() as conn:
            now = conn.scalar(select(func.now()))
            rows = conn.execute(
                select(
                    WorkerLease.executor_id,
                    WorkerLease.instance,
                    WorkerLease.heartbeat_at,
                    WorkerLease.lease_seconds,
                    WorkerLease.released_at,
                ).where(WorkerLease.executor_id != self.executor_id)
            ).all()
        assert now is not None
        dead = [
            (row.executor_id, row.instance)
            for row in rows
            if row.released_at is not None or row.heartbeat_at + timedelta(seconds=row.lease_seconds) < now
        ]
        recovered: list[str] = []
        for executor_id, instance in dead:
            if self._recover_one(executor_id, instance):
                recovered.append(executor_id)
        return recovered

    def _recover_one(self, executor_id: str, instance: str) -> bool:
        with self.engine.begin() as conn:
            # The lock keeps two recoverers apart; the re-check sees a row renewed or taken over meanwhile.
            row = conn.execute(
                select(
                    WorkerLease.heartbeat_at, WorkerLease.lease_seconds, WorkerLease.released_at, func.now()
                )
                .where(WorkerLease.executor_id == executor_id, WorkerLease.instance == instance)
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:
                return False
            heartbeat_at, lease_seconds, released_at, now = row
            if released_at is None and heartbeat_at + timedelta(seconds=lease_seconds) >= now:
                return False
            count = self.recover(executor_id)
            conn.execute(
                delete(WorkerLease).where(
                    WorkerLease.executor_id == executor_id, WorkerLease.instance == instance
                )
            )
        log.warning(
            "executor_recovered",
            dead_executor_id=executor_id,
            workflows=count,
            released=released_at is not None,
            by=self.executor_id,
        )
        self.recovered.append(executor_id)
        return True

    def stop(self, *, release: bool) -> None:
        """Stop renewing; `release` tells peers at once that this executor's pending work is theirs."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.interval + 5)
        if release:
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        update(WorkerLease)
                        .where(
                            WorkerLease.executor_id == self.executor_id, WorkerLease.instance == self.instance
                        )
                        .values(released_at=func.now())
                    )
            except Exception as exc:  # the row then expires on its own
                log.warning("lease_release_failed", error=str(exc))
        self.engine.dispose()
        log.info("lease_stopped", executor_id=self.executor_id, released=release)

    def _renew_loop(self) -> None:
        # Renewals only: recovery and sweeps wait for busy pools and must never delay a renewal.
        while not self._stop.wait(self.interval):
            try:
                if not self.renew():
                    self.on_lost("this executor's lease was taken over or recovered by another process")
                    return
            except Exception as exc:  # the database may be restarting: keep trying until the fence
                log.warning("lease_renewal_failed", error=f"{type(exc).__name__}: {exc}"[:300])

    def _scan_loop(self) -> None:
        tick = 0
        while not self._stop.wait(0 if tick == 0 else self.interval):
            tick += 1
            try:
                self.recover_dead_peers()
                if self.sweep is not None and tick % ORPHAN_SWEEP_TICKS == 0:
                    self.sweep()
            except Exception as exc:
                log.warning("lease_recovery_failed", error=f"{type(exc).__name__}: {exc}"[:300])

    def _watch(self) -> None:
        fence = self.lease_seconds * FENCE_FRACTION
        while not self._stop.wait(min(0.25, self.interval)):
            silent = time.monotonic() - self._renewed
            if silent > fence:
                self.on_lost(f"no lease renewal for {silent:.1f} s (fence at {fence:.1f} s)")
                return


def recover_executor(executor_id: str) -> int:
    """Re-enqueue a dead executor's pending workflows (DBOS: idempotent, one runner per workflow)."""
    return len(DBOS._recover_pending_workflows([executor_id]))


_lease: Lease | None = None


def take_lease(runtime: Runtime) -> None:
    """After launch (durable.AFTER_LAUNCH): on PostgreSQL, a process that runs workflows takes a lease."""
    global _lease
    from masterplan.durable import current_executor_id, is_queued
    from masterplan.execution.control import resume_orphaned_runs

    executor_id = current_executor_id()
    if runtime.settings.is_sqlite or executor_id is None or _lease is not None:
        return
    lease = Lease(
        runtime,
        executor_id,
        "worker" if is_queued() else "serve",
        lease_seconds=runtime.settings.lease_seconds,
        sweep=lambda: resume_orphaned_runs(runtime),
    )
    lease.start()
    _lease = lease


def release_lease() -> None:
    """After shutdown (durable.AFTER_SHUTDOWN): release the lease, so peers take the stopped runs at once.

    A step that outlived the drain keeps the lease renewed until it ends (or the process exits: then the
    row expires), so no peer takes its run while it still executes here.
    """
    global _lease
    from masterplan.execution.workflow import active_runs, wait_for_runs

    lease, _lease = _lease, None
    if lease is None:
        return
    busy = active_runs()
    if not busy:
        lease.stop(release=True)
        return
    log.warning("lease_kept_until_runs_end", runs=busy)

    def release_when_idle() -> None:
        while not wait_for_runs(60.0):
            pass
        lease.stop(release=True)

    threading.Thread(target=release_when_idle, name="masterplan-lease-release", daemon=True).start()


def current_lease() -> Lease | None:
    return _lease
