"""Leases exist on PostgreSQL only: these tests always use a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from masterplan.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.fixtures.database import postgres_database


@pytest.fixture
def pg_runtime(tmp_path: Path) -> Iterator[Runtime]:
    with postgres_database(migrated=True) as url:
        runtime = build_runtime(make_settings(tmp_path / "data", url))
        try:
            yield runtime
        finally:
            runtime.close()
