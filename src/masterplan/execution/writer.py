"""Group commit for the engine's small write transactions.

The tasks of a wave start, answer and finish at nearly the same moments, and each wants a short write
transaction. On SQLite writers are serial anyway, so whoever holds the writer lock runs every waiting
operation in one transaction, each inside its own SAVEPOINT: one BEGIN, one COMMIT and one lock handoff
for the group instead of one per task. An operation that raises is rolled back alone (with the events
it recorded) and its caller gets the exception; the others commit.

Operations of one kind can also be batched (`write_batched`): the group runs a single call of the kind's
bulk function for all its items, so a wave's answers that arrived together are stored with one set of
statements, not one set each. If that call raises, each item runs alone, so one bad item fails alone.
The kinds run in the order each first came (an operation queued after another is never run before it
unless both are of a kind that came earlier). A deferrable operation (a task's completion, which only
reports) waits for the next group when an urgent one (a claim, which starts a model request) waits
with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from masterplan.events.store import PENDING_KEY, UNNUMBERED_KEY
from masterplan.runtime import Runtime

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741

# A bulk function: the items of one kind of operation in, one result per item out (in their order).
Bulk = Callable[[Session, list[Any]], list[Any]]


@dataclass
class _Operation(Generic[T]):
    fn: Callable[[Session], T]
    bulk: Bulk | None = None
    item: Any = None
    deferrable: bool = False
    urgent: bool = False
    done: bool = False
    result: Any = None
    error: BaseException | None = None


class GroupWriter:
    """Runs write operations of one database, grouped into shared transactions."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: list[_Operation[Any]] = []

    def run(self, fn: Callable[[Session], T]) -> T:
        """Run `fn(session)` in a write transaction (maybe shared) and return its result once committed."""
        return self.finish(self.submit(fn))

    def submit(
        self,
        fn: Callable[[Session], T],
        bulk: Bulk | None = None,
        item: Any = None,
        deferrable: bool = False,
        urgent: bool = False,
    ) -> _Operation[T]:
        """Queue an operation without waiting: whoever commits the next group commits it (see finish).

        With `bulk`, `fn` is `bulk` for this one item, and the group runs `bulk` once for all its items.
        Any operation queued later commits with this one or after it. While an `urgent` operation waits,
        the `deferrable` ones wait for the group after it.
        """
        operation: _Operation[T] = _Operation(fn, bulk, item, deferrable, urgent)
        with self._pending_lock:
            self._pending.append(operation)
        return operation

    def finish(self, operation: _Operation[T]) -> T:
        """Wait until a queued operation is committed (committing its group when nobody else does)."""
        with self._lock:
            while not operation.done:
                with self._pending_lock:
                    group, self._pending = self._pending, []
                    if any(op.urgent for op in group):
                        self._pending = [op for op in group if op.deferrable]
                        group = [op for op in group if not op.deferrable]
                self._commit(group)
        if operation.error is not None:
            raise operation.error
        result: T = operation.result
        return result

    def _commit(self, group: list[_Operation[Any]]) -> None:
        if len(group) == 1:  # alone: no savepoint needed, its error rolls the transaction back
            self._commit_alone(group[0])
            return
        try:
            with self.runtime.transaction() as session:
                # Each kind in the order it first came, so a claim queued after an answer sees that
                # answer's cost; the operations of one kind run as one call of its bulk function.
                kinds: dict[object, list[_Operation[Any]]] = {}
                for operation in group:
                    kinds.setdefault(operation.bulk or id(operation), []).append(operation)
                for operations in kinds.values():
                    if operations[0].bulk is None:
                        self._apply(session, operations[0])
                    else:
                        self._apply_bulk(session, operations)
        except BaseException as exc:  # the commit itself failed: nothing of the group is stored
            for operation in group:
                if operation.error is None:
                    operation.error = exc
        finally:
            for operation in group:
                operation.done = True

    def _commit_alone(self, operation: _Operation[Any]) -> None:
        try:
            with self.runtime.transaction() as session:
                operation.result = operation.fn(session)
        except BaseException as exc:
            operation.error = exc
        finally:
            operation.done = True

    def _apply_bulk(self, session: Session, operations: list[_Operation[Any]]) -> None:
        bulk = operations[0].bulk
        assert bulk is not None
        if len(operations) == 1:
            self._apply(session, operations[0])
            return
        items = [operation.item for operation in operations]
        try:
            results = _in_savepoint(session, lambda s: bulk(s, items))
        except Exception:
            for operation in operations:  # one at a time: the one that fails fails alone
                self._apply(session, operation)
            return
        for operation, result in zip(operations, results, strict=True):
            operation.result = result

    @staticmethod
    def _apply(session: Session, operation: _Operation[Any]) -> None:
        try:
            operation.result = _in_savepoint(session, operation.fn)
        except Exception as exc:
            operation.error = exc


def _in_savepoint(session: Session, fn: Callable[[Session], T]) -> T:
    """`fn(session)` inside a SAVEPOINT; if it raises, its changes and the events it recorded are undone.

    Events are not written inside a savepoint (write_events waits for the transaction's own flush), so
    the ones recorded here are the tail of both lists.
    """
    events = session.info.setdefault(PENDING_KEY, [])
    unwritten = session.info.setdefault(UNNUMBERED_KEY, [])
    recorded, kept = len(events), len(unwritten)
    savepoint = session.begin_nested()
    try:
        result = fn(session)
        savepoint.commit()
    except Exception:
        savepoint.rollback()
        del events[recorded:]  # never stored: they must not be published
        del unwritten[kept:]
        raise
    return result


_writers: dict[int, GroupWriter] = {}
_writers_lock = threading.Lock()


def write(runtime: Runtime, fn: Callable[[Session], T]) -> T:
    """Run a write operation of the engine; on SQLite grouped with the others waiting at this moment."""
    if not runtime.settings.is_sqlite:
        # PostgreSQL runs writers concurrently (the plan row lock orders them); no grouping needed.
        with runtime.transaction() as session:
            return fn(session)
    return _writer(runtime).run(fn)


def _writer(runtime: Runtime) -> GroupWriter:
    with _writers_lock:
        writer = _writers.get(id(runtime))
        if writer is None or writer.runtime is not runtime:
            writer = _writers[id(runtime)] = GroupWriter(runtime)
        return writer


class Pending(Generic[T]):
    """A write queued by `submit_batched`: `result()` waits for its commit and returns what it returned."""

    def __init__(self, finish: Callable[[], T]) -> None:
        self._finish = finish

    def result(self) -> T:
        return self._finish()


def submit_batched(
    runtime: Runtime,
    bulk: Callable[[Session, list[I]], list[T]],
    item: I,
    *,
    deferrable: bool = False,
    urgent: bool = False,
) -> Pending[T]:
    """Queue `bulk(session, [item])` as a write operation now, to be waited for later (possibly by another
    thread than the one queueing it); on SQLite one call serves all the items of the operations of this
    kind waiting at that moment (in the order they came). On PostgreSQL, where writers run side by side,
    it runs at once. See GroupWriter.submit for `deferrable` and `urgent`."""

    def alone(session: Session) -> T:
        return bulk(session, [item])[0]

    if not runtime.settings.is_sqlite:
        try:
            result = write(runtime, alone)
        except Exception as exc:
            error = exc

            def reraise() -> T:
                raise error

            return Pending(reraise)
        return Pending(lambda: result)
    writer = _writer(runtime)
    operation = writer.submit(alone, bulk, item, deferrable, urgent)
    return Pending(lambda: writer.finish(operation))


def write_batched(
    runtime: Runtime,
    bulk: Callable[[Session, list[I]], list[T]],
    item: I,
    queued: Callable[[], None] | None = None,
    deferrable: bool = False,
) -> T:
    """`submit_batched` and wait for the commit; `queued` is called in between, once any write started
    later commits with this one or after it (on PostgreSQL: once this one committed)."""
    pending = submit_batched(runtime, bulk, item, deferrable=deferrable)
    if queued is not None:
        queued()
    return pending.result()
