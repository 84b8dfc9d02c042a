"""Shared fixtures: settings in a temporary data dir, a real database, the app over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from masterplan.app import create_app
from masterplan.auth.tokens import ensure_local_user
from masterplan.config import Settings
from masterplan.models import User
from masterplan.runtime import Runtime, build_runtime
from tests.fixtures.database import database_url

TOKEN = "mp_test_local_token"

# Real model requests are never made from tests.
os.environ.setdefault("ALLOW_MODEL_REQUESTS", "false")
for _key in list(os.environ):
    if _key.startswith("MASTERPLAN_") and _key not in ("MASTERPLAN_TEST_DB", "MASTERPLAN_TEST_PG_DSN"):
        del os.environ[_key]


def make_settings(data_dir: Path, url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": url,
        "local_token": SecretStr(TOKEN),
        "model": "sim",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    with database_url(tmp_path) as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path / "data", db_url)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = build_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def local_user(runtime: Runtime) -> User:
    with runtime.transaction() as session:
        user = ensure_local_user(session, runtime.settings)
        session.expunge(user)
    return user


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime), headers={"Authorization": f"Bearer {TOKEN}"}) as test_client:
        yield test_client
