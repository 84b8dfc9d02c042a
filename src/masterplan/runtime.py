"""The process-wide parts built from settings: engine, sessions, event bus. Built explicitly, never at import."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from masterplan.config import Settings
from masterplan.db import make_engine, make_session_factory, read_only, transaction
from masterplan.events import EventBus, install_after_commit_publishing
from masterplan.observability.metrics import Metrics

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    read_session_factory: sessionmaker[Session]
    bus: EventBus = field(default_factory=EventBus)
    on_close: list[Callable[[], None]] = field(default_factory=list)
    metrics: Metrics = field(default_factory=Metrics)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A writing transaction (on SQLite it holds the write lock until it ends)."""
        with transaction(self.session_factory) as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session that never waits for writers."""
        with self.read_session_factory() as session:
            yield session

    def close(self) -> None:
        while self.on_close:
            self.on_close.pop()()
        self.engine.dispose()


def build_runtime(settings: Settings, *, migrate: bool = True) -> Runtime:
    """Connect to the database (migrating it when asked) and wire event publication."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    if migrate:
        upgrade_database(engine)
    factory = make_session_factory(engine)
    reader = make_session_factory(read_only(engine))
    runtime = Runtime(settings=settings, engine=engine, session_factory=factory, read_session_factory=reader)
    install_after_commit_publishing(factory, runtime.bus)
    if settings.redis_url:
        from masterplan.realtime.fanout import install_redis_publishing

        install_redis_publishing(runtime)
    elif engine.dialect.name == "postgresql":
        from masterplan.realtime.pgnotify import install_postgres_notifications

        install_postgres_notifications(runtime)
    runtime.metrics.attach_database(reader)
    return runtime


def alembic_config(engine: Engine) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


MIGRATION_LOCK = 7_411_001  # PostgreSQL advisory lock: processes starting together migrate one at a time


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), revision)  # type: ignore[arg-type]
        return
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            command.upgrade(alembic_config(engine), revision)  # type: ignore[arg-type]
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            lock.commit()


def downgrade_database(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)  # type: ignore[arg-type]
