"""Migrations run cleanly up and down on the configured database (SQLite or PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import inspect

from masterplan.db import make_engine
from masterplan.models import Base
from masterplan.runtime import downgrade_database, upgrade_database


def test_upgrade_creates_every_table_and_downgrade_removes_them(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade_database(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        downgrade_database(engine, "base")
        assert set(inspect(engine).get_table_names()) & set(Base.metadata.tables) == set()
        upgrade_database(engine)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migration_matches_the_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(db_url)
    try:
        upgrade_database(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], diff
    finally:
        engine.dispose()
