"""In-process publication of committed events to subscribers (Socket.IO, CLI watchers, fan-out)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from masterplan.events.store import PENDING_KEY, StoredEvent

log = structlog.get_logger(__name__)
Subscriber = Callable[[list[StoredEvent]], None]


class EventBus:
    """Delivers batches of committed events to every subscriber; a failing subscriber is logged, not fatal."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, events: list[StoredEvent]) -> None:
        if not events:
            return
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(events)
            except Exception:
                log.exception("event_subscriber_failed")


def install_after_commit_publishing(factory: sessionmaker[Session], bus: EventBus) -> None:
    """Publish the events a session recorded once, and only once, its transaction commits."""

    def after_commit(session: Session) -> None:
        pending: list[StoredEvent] = session.info.pop(PENDING_KEY, [])
        bus.publish(pending)

    def after_rollback(session: Session, previous: SessionTransaction) -> None:
        if not previous.nested:  # a savepoint drops only its own events (execution.writer)
            session.info.pop(PENDING_KEY, None)

    listeners: list[tuple[str, Callable[..., Any]]] = [
        ("after_commit", after_commit),
        ("after_soft_rollback", after_rollback),
    ]
    for name, fn in listeners:
        event.listen(factory, name, fn)
