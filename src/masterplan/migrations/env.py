"""Alembic environment: runs against the engine handed over in the config attributes."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Engine

from masterplan.models import Base
from masterplan.models.base import UTCDateTime

config = context.config
engine: Engine = config.attributes["engine"]


def render_item(kind: str, obj: Any, _context: Any) -> str | Literal[False]:
    """Migrations spell our UTC datetime as the plain column type it stores."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
