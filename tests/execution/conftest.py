"""Execution tests: settings per test (parametrize `settings` indirectly to change them), models blocked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from masterplan.config import Settings
from tests.conftest import make_settings
from tests.fixtures.durable import durable
from tests.fixtures.llm import block_model_requests

__all__ = ["block_model_requests", "durable"]


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, db_url: str) -> Settings:
    """Sim by default; `@pytest.mark.parametrize("settings", [{...}], indirect=True)` overrides fields."""
    overrides: dict[str, Any] = {"llm_retry_backoff_seconds": 0.01, **getattr(request, "param", {})}
    return make_settings(tmp_path / "data", db_url, **overrides)
