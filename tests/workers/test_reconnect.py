"""Which database errors make a step run again (a lost connection) and which do not (a wrong query)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from masterplan.durable import is_disconnect
from masterplan.runtime import Runtime

# PostgreSQL only (its disconnects): run once, in the PostgreSQL pass.
pytestmark = pytest.mark.postgres


def error_of(runtime: Runtime, statement: str) -> DBAPIError:
    with runtime.engine.connect() as conn, pytest.raises(DBAPIError) as caught:
        conn.execute(text(statement))
    return caught.value


def test_a_connection_cut_by_the_server_is_a_disconnect(pg_runtime: Runtime) -> None:
    with pg_runtime.engine.connect() as victim:
        pid = victim.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with pg_runtime.engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as caught:
            victim.execute(text("SELECT 1"))
    assert is_disconnect(caught.value)


def test_a_wrong_query_is_not_a_disconnect(pg_runtime: Runtime) -> None:
    assert not is_disconnect(error_of(pg_runtime, "SELECT * FROM no_such_table"))
    assert not is_disconnect(error_of(pg_runtime, "SELECT 1 / 0"))
    assert not is_disconnect(ValueError("connection"))
