"""A sliding-window limiter kept in the database, so every API process counts the same hits.

`check(session, key, limit=..., window=...)` counts one hit under `key` and raises TooManyRequests
(429, with the seconds to wait) when `limit` hits already fall inside the last `window`. The hit is
written in the caller's transaction: a request that fails afterwards is not counted.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from masterplan.errors import TooManyRequests
from masterplan.models import RateLimitHit


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back without a zone; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _window(window: timedelta | float) -> timedelta:
    return window if isinstance(window, timedelta) else timedelta(seconds=window)


def retry_after(session: Session, key: str, *, limit: int, window: timedelta | float) -> int:
    """Seconds until `key` is below `limit` again; 0 when it is below now."""
    span = _window(window)
    now = datetime.now(UTC)
    hits = session.scalars(
        select(RateLimitHit.created_at)
        .where(RateLimitHit.key == key, RateLimitHit.created_at > now - span)
        .order_by(RateLimitHit.created_at.desc())
        .limit(limit)
    ).all()
    if len(hits) < limit:
        return 0
    # The limit frees up when the oldest of the last `limit` hits leaves the window.
    return max(1, math.ceil((as_utc(hits[-1]) + span - now).total_seconds()))


def record(session: Session, key: str, *, window: timedelta | float | None = None) -> None:
    """Count one hit under `key`, dropping hits older than `window` (when given)."""
    now = datetime.now(UTC)
    if window is not None:
        session.execute(
            delete(RateLimitHit).where(
                RateLimitHit.key == key, RateLimitHit.created_at <= now - _window(window)
            )
        )
    session.add(RateLimitHit(key=key, created_at=now))
    session.flush()


def count(session: Session, key: str, *, window: timedelta | float) -> int:
    """Hits under `key` within the last `window`."""
    since = datetime.now(UTC) - _window(window)
    return (
        session.scalar(select(func.count()).where(RateLimitHit.key == key, RateLimitHit.created_at > since))
        or 0
    )


def clear(session: Session, key: str) -> None:
    session.execute(delete(RateLimitHit).where(RateLimitHit.key == key))


def check(
    session: Session,
    key: str,
    *,
    limit: int,
    window: timedelta | float,
    what: str = "requests",
) -> None:
    """Count a hit, or raise TooManyRequests when `limit` hits already fall in the last `window`."""
    if limit <= 0:
        return
    wait = retry_after(session, key, limit=limit, window=window)
    if wait:
        seconds = int(_window(window).total_seconds())
        raise TooManyRequests(
            f"too many {what}: at most {limit} per {seconds} s; try again in {wait} s",
            retry_after=wait,
            code="rate_limited",
        )
    record(session, key, window=window)
