"""Body size limit (declared and streamed), security headers, CORS allowlist, over a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from masterplan.app import create_app
from masterplan.cli.server import background_server
from masterplan.config import Settings
from masterplan.plans.synthetic import synthetic_plan
from masterplan.runtime import Runtime
from tests.conftest import TOKEN, make_settings

LIMIT = 4_000
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def small_limit(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path / "data", db_url, max_body_bytes=LIMIT)


@pytest.fixture
def server(small_limit: Settings) -> Iterator[str]:
    with background_server(small_limit) as base:
        yield base


def chunks(total: int, size: int = 512) -> Iterator[bytes]:
    sent = 0
    yield b'{"project_name": "'
    while sent < total:
        yield b"x" * size
        sent += size
    yield b'"}'


def test_declared_oversized_body_is_413(server: str) -> None:
    response = httpx.post(f"{server}/api/v1/masterplans", content=b"{" + b" " * LIMIT + b"}", headers=AUTH)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert response.json()["error"]["details"]["max_bytes"] == LIMIT
    assert response.headers["x-content-type-options"] == "nosniff"


def test_chunked_oversized_body_without_length_is_413(server: str) -> None:
    response = httpx.post(
        f"{server}/api/v1/masterplans",
        content=chunks(LIMIT * 3),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_chunked_oversized_body_is_413_before_authentication(server: str) -> None:
    response = httpx.post(f"{server}/api/v1/auth/login", content=chunks(LIMIT * 2))
    assert response.status_code == 413


def test_small_chunked_body_still_works(server: str) -> None:
    response = httpx.post(
        f"{server}/api/v1/auth/login",
        content=iter([b'{"email": "nobody@example.com", ', b'"password": "not the password"}']),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 401


def test_body_limit_in_process(runtime: Runtime) -> None:
    runtime.settings = runtime.settings.model_copy(update={"max_body_bytes": LIMIT})
    with TestClient(create_app(runtime=runtime), headers=AUTH) as client:
        big = synthetic_plan(40, seed=2).model_dump(mode="json")
        assert client.post("/api/v1/masterplans", json=big).status_code == 413
        assert client.post("/api/v1/masterplans", content=chunks(LIMIT * 2)).status_code == 413


def test_security_headers_on_api_and_ui(client: TestClient) -> None:
    api = client.get("/api/v1/health")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert api.headers["referrer-policy"] == "no-referrer"
    assert api.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in api.headers["content-security-policy"]
    assert api.headers["cache-control"] == "no-store"
    unauthorized = client.get("/api/v1/masterplans", headers={"Authorization": ""})
    assert unauthorized.status_code == 401 and unauthorized.headers["x-frame-options"] == "DENY"

    ui = client.get("/")
    policy = ui.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert ui.headers["x-content-type-options"] == "nosniff"

    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "cdn.jsdelivr.net" in docs.headers["content-security-policy"]


def test_cors_allows_only_listed_origins(runtime: Runtime) -> None:
    runtime.settings = runtime.settings.model_copy(update={"cors_origins": ["https://ui.example.com"]})
    with TestClient(create_app(runtime=runtime), headers=AUTH) as client:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        }
        allowed = client.options(
            "/api/v1/masterplans", headers={"Origin": "https://ui.example.com", **preflight}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://ui.example.com"
        refused = client.options(
            "/api/v1/masterplans", headers={"Origin": "https://evil.example", **preflight}
        )
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
        simple = client.get("/api/v1/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in simple.headers


def test_no_cors_headers_by_default(client: TestClient) -> None:
    response = client.get("/api/v1/health", headers={"Origin": "https://ui.example.com"})
    assert "access-control-allow-origin" not in response.headers
