"""The event log: stored with the state change it reports, published only after commit."""

from masterplan.events.bus import EventBus, install_after_commit_publishing
from masterplan.events.store import StoredEvent, conversation_stream, events_after, plan_stream, record_event

__all__ = [
    "EventBus",
    "StoredEvent",
    "conversation_stream",
    "events_after",
    "install_after_commit_publishing",
    "plan_stream",
    "record_event",
]
