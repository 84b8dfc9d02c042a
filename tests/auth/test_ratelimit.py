"""The database-backed limiter, and the generation limit on POST /masterplans/generate."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from masterplan.auth import ratelimit
from masterplan.errors import TooManyRequests
from masterplan.runtime import Runtime
from tests.auth.helpers import bearer, sign_in


def test_check_counts_hits_per_key_within_the_window(runtime: Runtime) -> None:
    for _ in range(3):
        with runtime.transaction() as session:
            ratelimit.check(session, "test:a", limit=3, window=60)
    with runtime.transaction() as session, pytest.raises(TooManyRequests) as refused:
        ratelimit.check(session, "test:a", limit=3, window=60)
    assert 0 < refused.value.retry_after <= 60
    assert refused.value.status_code == 429
    with runtime.transaction() as session:
        ratelimit.check(session, "test:b", limit=3, window=60)  # another key is counted apart
        ratelimit.check(session, "test:a", limit=0, window=60)  # 0 means no limit
        assert ratelimit.count(session, "test:a", window=60) == 3


def test_hits_outside_the_window_do_not_count(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        ratelimit.check(session, "test:w", limit=1, window=0.001)
    time.sleep(0.01)  # the window is a millisecond: the next transaction can start within it
    with runtime.transaction() as session:
        # By now the first hit is outside the window.
        assert ratelimit.retry_after(session, "test:w", limit=1, window=0.001) == 0


def test_generation_requests_are_limited_per_user(runtime: Runtime, client: TestClient, ann: str) -> None:
    # The limiter reads the settings on every request.
    runtime.settings = runtime.settings.model_copy(update={"generation_requests_per_hour": 2})
    anon = TestClient(client.app)
    token = sign_in(anon, ann)["access_token"]
    body = {"request": "a small todo list API", "model": "sim"}
    for _ in range(2):
        accepted = anon.post("/api/v1/masterplans/generate", json=body, headers=bearer(token))
        assert accepted.status_code == 202, accepted.text
    refused = anon.post("/api/v1/masterplans/generate", json=body, headers=bearer(token))
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    # Every user has an allowance of their own.
    assert client.post("/api/v1/masterplans/generate", json=body).status_code == 202
