"""Notification payloads stay under PostgreSQL's limit: whole events in batches, a hint for a big one."""

from __future__ import annotations

from datetime import UTC, datetime

from masterplan.events import StoredEvent
from masterplan.realtime.pgnotify import MAX_PAYLOAD, notification_payloads, parse_notification


def stored(seq: int, size: int = 10) -> StoredEvent:
    return StoredEvent(
        stream="masterplan:p",
        seq=seq,
        type="task_execution_progress",
        payload={"seq": seq, "text": "y" * size},
        trace_id="",
        timestamp=datetime.now(UTC),
    )


def test_events_are_batched_under_the_limit_and_big_ones_become_hints() -> None:
    events = [stored(n, 1500) for n in range(1, 11)] + [stored(11, 20_000), stored(12)]
    payloads = notification_payloads(events)
    assert all(len(p) <= MAX_PAYLOAD for p in payloads)
    assert len(payloads) > 1
    carried: list[StoredEvent] = []
    hinted: set[str] = set()
    for payload in payloads:
        got, hints = parse_notification(payload)
        carried += got
        hinted |= hints
    assert [e.seq for e in carried] == [*range(1, 11), 12]
    assert carried[0] == events[0]
    assert hinted == {"masterplan:p"}
    assert notification_payloads([]) == []
