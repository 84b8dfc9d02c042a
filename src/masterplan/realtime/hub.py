"""Per-stream delivery of committed events to Socket.IO rooms: in order, without gaps, replay on join.

Committed events reach the hub from several paths (this process's bus, Redis, the periodic check of
the log) and may arrive late, twice or out of order. Each stream with local subscribers has a feed
that delivers seq N+1 only after N: an early event waits, and if the missing ones do not arrive
within a short grace the feed reads them from the log (an event is published only after its commit,
and commits happen in seq order, so the log already holds everything before it).

A joining client is first a catching-up subscriber: the feed copies live events into its backlog
while the join replays the log after the client's last_seq; then, under the feed's lock, the backlog
is sent (dropping what the replay already sent) and the client enters the room. The log is read after
registering, so replay and backlog overlap and nothing falls between them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from masterplan.events import StoredEvent

log = structlog.get_logger(__name__)

ReadLog = Callable[[str, int, int], Awaitable[list[StoredEvent]]]
ReadHeads = Callable[[list[str]], Awaitable[dict[str, int]]]


class Transport(Protocol):
    """What the hub needs from Socket.IO."""

    async def emit(self, event_type: str, data: dict[str, Any], to: str) -> None: ...

    async def enter_room(self, sid: str, room: str) -> None: ...

    async def leave_room(self, sid: str, room: str) -> None: ...


def message_of(event: StoredEvent) -> dict[str, Any]:
    """The Socket.IO payload of an event: its stored payload plus the stream it belongs to."""
    return {**event.payload, "stream": event.stream}


@dataclass
class Subscriber:
    sid: str
    last_sent: int
    live: bool = False
    backlog: list[StoredEvent] = field(default_factory=list)


@dataclass
class Feed:
    stream: str
    last_seq: int | None = None
    pending: dict[int, StoredEvent] = field(default_factory=dict)
    subscribers: dict[str, Subscriber] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    fill_task: asyncio.Task[None] | None = None


@dataclass(frozen=True)
class JoinResult:
    stream: str
    replayed: int
    last_seq: int


class Hub:
    """Feeds for the streams that have subscribers in this process."""

    def __init__(
        self,
        transport: Transport,
        read_log: ReadLog,
        read_heads: ReadHeads,
        *,
        gap_grace_seconds: float = 0.05,
        reconcile_seconds: float = 1.0,
        page_size: int = 500,
    ) -> None:
        self._transport = transport
        self._read_log = read_log
        self._read_heads = read_heads
        self._gap_grace = gap_grace_seconds
        self._reconcile_seconds = reconcile_seconds
        self._page = page_size
        self._feeds: dict[str, Feed] = {}
        self._joined: dict[str, set[str]] = {}
        self._inbox: asyncio.Queue[list[StoredEvent]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._tasks = [asyncio.create_task(self._dispatch())]
        if self._reconcile_seconds > 0:
            self._tasks.append(asyncio.create_task(self._reconcile()))

    async def stop(self) -> None:
        tasks = self._tasks + [f.fill_task for f in self._feeds.values() if f.fill_task]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    # --- input ---

    def receive(self, events: list[StoredEvent]) -> None:
        """Accept committed events; call on the hub's event loop."""
        if any(e.stream in self._feeds for e in events):
            self._inbox.put_nowait(events)

    def receive_threadsafe(self, events: list[StoredEvent]) -> None:
        """Accept committed events from any thread (the bus calls this after a commit)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.receive, events)

    def hint(self, stream: str) -> None:
        """Events of a stream were committed elsewhere without their content: read them from the log."""
        feed = self._feeds.get(stream)
        if feed is not None and feed.last_seq is not None:
            self._schedule_fill(feed, 0.0)

    async def _dispatch(self) -> None:
        while True:
            events = await self._inbox.get()
            for event in events:
                feed = self._feeds.get(event.stream)
                if feed is None:
                    continue
                try:
                    async with feed.lock:
                        await self._offer(feed, event)
                except Exception:
                    log.exception("event_delivery_failed", stream=event.stream, seq=event.seq)

    # --- ordering ---

    async def _offer(self, feed: Feed, event: StoredEvent) -> None:
        """Deliver an event in seq order; call with feed.lock held."""
        if feed.last_seq is not None and event.seq <= feed.last_seq:
            return
        feed.pending[event.seq] = event
        if feed.last_seq is None:
            return
        while (feed.last_seq + 1) in feed.pending:
            await self._deliver(feed, feed.pending.pop(feed.last_seq + 1))
        if feed.pending:
            self._schedule_fill(feed, self._gap_grace)

    async def _deliver(self, feed: Feed, event: StoredEvent) -> None:
        feed.last_seq = event.seq
        for sub in feed.subscribers.values():
            if not sub.live:
                sub.backlog.append(event)
        await self._transport.emit(event.type, message_of(event), feed.stream)

    def _schedule_fill(self, feed: Feed, delay: float) -> None:
        if feed.fill_task is None or feed.fill_task.done():
            feed.fill_task = asyncio.create_task(self._fill(feed, delay))

    async def _fill(self, feed: Feed, delay: float) -> None:
        """Read from the log what the feed is missing, once the grace for late arrivals is over."""
        await asyncio.sleep(delay)
        while self._feeds.get(feed.stream) is feed and feed.last_seq is not None:
            after = feed.last_seq
            events = await self._read_log(feed.stream, after, self._page)
            async with feed.lock:
                for event in events:
                    await self._offer(feed, event)
            if feed.last_seq > after:
                log.debug("event_gap_filled", stream=feed.stream, after_seq=after, to_seq=feed.last_seq)
            if len(events) < self._page:
                return

    async def _reconcile(self) -> None:
        """Every few seconds, compare each feed with the log: catches events no pub/sub carried here."""
        while True:
            await asyncio.sleep(self._reconcile_seconds)
            streams = [s for s, f in self._feeds.items() if f.last_seq is not None]
            if not streams:
                continue
            try:
                heads = await self._read_heads(streams)
            except Exception:
                log.exception("event_reconcile_failed")
                continue
            for stream, head in heads.items():
                feed = self._feeds.get(stream)
                if feed is not None and feed.last_seq is not None and head > feed.last_seq:
                    self._schedule_fill(feed, self._gap_grace)

    # --- subscriptions ---

    async def _open_feed(self, stream: str, sub: Subscriber) -> Feed:
        feed = self._feeds.get(stream)
        if feed is None:
            feed = self._feeds[stream] = Feed(stream)
            try:
                head = (await self._read_heads([stream])).get(stream, 0)
            except BaseException:
                del self._feeds[stream]
                feed.ready.set()
                raise
            async with feed.lock:
                feed.last_seq = head
                for seq in [s for s in feed.pending if s <= head]:
                    del feed.pending[seq]
                while (feed.last_seq + 1) in feed.pending:
                    await self._deliver(feed, feed.pending.pop(feed.last_seq + 1))
            feed.ready.set()
        else:
            await feed.ready.wait()
            if self._feeds.get(stream) is not feed:
                return await self._open_feed(stream, sub)
        feed.subscribers[sub.sid] = sub
        self._joined.setdefault(sub.sid, set()).add(stream)
        return feed

    async def join(self, sid: str, stream: str, last_seq: int | None) -> JoinResult:
        """Subscribe sid to a stream: replay the log after last_seq (unless None), then live events."""
        if stream in self._joined.get(sid, set()):
            await self.leave(sid, stream)
        sub = Subscriber(sid, last_sent=last_seq or 0)
        feed = await self._open_feed(stream, sub)
        try:
            return await self._catch_up(feed, sub, last_seq)
        except BaseException:
            if feed.subscribers.get(sid) is sub:
                await self.leave(sid, stream)  # a half-joined client would buffer forever
            raise

    async def _catch_up(self, feed: Feed, sub: Subscriber, last_seq: int | None) -> JoinResult:
        sid, stream = sub.sid, feed.stream
        if last_seq is None:
            # Live only: start where the feed stands now (registration happened without a pause since).
            sub.last_sent = feed.last_seq or 0
            async with feed.lock:
                backlog, sub.backlog = sub.backlog, []
                return await self._go_live(feed, sub, await self._send(sub, backlog))
        replayed = 0
        while feed.subscribers.get(sid) is sub:
            page = await self._read_log(stream, sub.last_sent, self._page)
            replayed += await self._send(sub, page)
            if len(page) < self._page:
                break
        async with feed.lock:
            if feed.subscribers.get(sid) is not sub:
                return JoinResult(stream, replayed, sub.last_sent)
            backlog, sub.backlog = sub.backlog, []
            replayed += await self._send(sub, backlog)
            assert feed.last_seq is not None
            if sub.last_sent > feed.last_seq:
                # The log is ahead of the feed (events still in flight): deliver them now, in order.
                for event in await self._read_log(stream, feed.last_seq, sub.last_sent - feed.last_seq):
                    await self._offer(feed, event)
            elif sub.last_sent < feed.last_seq:
                # Only when the log lost events (a reset database): resend what the feed holds.
                catch_up = await self._read_log(stream, sub.last_sent, feed.last_seq - sub.last_sent)
                replayed += await self._send(sub, catch_up)
            sub.backlog = []
            return await self._go_live(feed, sub, replayed)

    async def _send(self, sub: Subscriber, events: list[StoredEvent]) -> int:
        sent = 0
        for event in events:
            if event.seq <= sub.last_sent:
                continue
            await self._transport.emit(event.type, message_of(event), sub.sid)
            sub.last_sent = event.seq
            sent += 1
        return sent

    async def _go_live(self, feed: Feed, sub: Subscriber, replayed: int) -> JoinResult:
        await self._transport.enter_room(sub.sid, feed.stream)
        sub.live = True
        return JoinResult(feed.stream, replayed, sub.last_sent)

    async def leave(self, sid: str, stream: str) -> bool:
        """Unsubscribe sid from a stream; False when it was not subscribed."""
        streams = self._joined.get(sid, set())
        if stream not in streams:
            return False
        streams.discard(stream)
        if not streams:
            self._joined.pop(sid, None)
        feed = self._feeds.get(stream)
        if feed is not None:
            feed.subscribers.pop(sid, None)
            if not feed.subscribers and feed.ready.is_set():
                self._close_feed(feed)
        await self._transport.leave_room(sid, stream)
        return True

    async def leave_all(self, sid: str) -> None:
        """Drop every subscription of a disconnected client."""
        for stream in list(self._joined.get(sid, ())):
            await self.leave(sid, stream)

    def _close_feed(self, feed: Feed) -> None:
        if self._feeds.get(feed.stream) is feed:
            del self._feeds[feed.stream]
        if feed.fill_task is not None:
            feed.fill_task.cancel()

    def subscriptions(self, sid: str) -> set[str]:
        """The streams a client is subscribed to."""
        return set(self._joined.get(sid, ()))
