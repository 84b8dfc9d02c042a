"""Processes of a scale-out layout start together on a fresh database: they migrate it one at a time."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import inspect

from masterplan.db import make_engine
from masterplan.models import Base
from tests.fixtures.database import postgres_database

pytestmark = pytest.mark.slow


def test_processes_starting_together_on_a_fresh_database_all_migrate_it(tmp_path: object) -> None:
    with postgres_database() as url:
        env = {**os.environ, "MASTERPLAN_DATABASE_URL": url, "MASTERPLAN_DATA_DIR": str(tmp_path)}
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "masterplan", "db", "upgrade"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(6)
        ]
        outputs = [p.communicate(timeout=120)[0] for p in processes]
        assert [p.returncode for p in processes] == [0] * 6, "\n".join(outputs)
        engine = make_engine(url)
        try:
            assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
