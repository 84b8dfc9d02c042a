"""Fixtures for auth tests: an anonymous client on the same app, members and an admin who sign in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from masterplan.models import User
from masterplan.runtime import Runtime
from tests.auth.helpers import add_user


@pytest.fixture
def anon(client: TestClient) -> Iterator[TestClient]:
    """A client without credentials, talking to the same running app."""
    yield TestClient(client.app)


@pytest.fixture
def ann(runtime: Runtime, client: TestClient) -> str:
    add_user(runtime, "ann@example.com")
    return "ann@example.com"


@pytest.fixture
def bob(runtime: Runtime, client: TestClient) -> str:
    add_user(runtime, "bob@example.com")
    return "bob@example.com"


@pytest.fixture
def local_user_id(local_user: User) -> str:
    return str(local_user.id)
