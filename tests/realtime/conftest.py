"""A real server (API + Socket.IO) on a loopback port; plans, conversations and users in the real database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn

from masterplan.models import User
from masterplan.realtime.server import create_asgi_app
from masterplan.runtime import Runtime
from tests.realtime.support import free_port


@contextmanager
def serve(runtime: Runtime, port: int | None = None) -> Iterator[str]:
    """uvicorn serving create_asgi_app(runtime) in a thread until the block ends; yields the base URL."""
    port = port or free_port()
    config = uvicorn.Config(
        create_asgi_app(runtime=runtime),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=2,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    try:
        httpx.get(f"{base}/api/v1/health", timeout=5).raise_for_status()
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server_url(runtime: Runtime, local_user: User) -> Iterator[str]:
    with serve(runtime) as url:
        yield url
