"""Scale-out tests always run on PostgreSQL and Redis (the layout they test does not exist on SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from masterplan.auth.tokens import ensure_local_user
from masterplan.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.fixtures.database import postgres_database
from tests.scale.cluster import REDIS_URL


@pytest.fixture
def pg_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A fresh PostgreSQL database (migrated, with the local user) and this test's data directory."""
    redis.Redis.from_url(REDIS_URL).ping()
    with postgres_database(migrated=True) as url:
        settings = make_settings(tmp_path / "data", url, redis_url=REDIS_URL)
        runtime = build_runtime(settings)
        with runtime.transaction() as session:
            ensure_local_user(session, settings)
        try:
            yield runtime
        finally:
            runtime.close()
