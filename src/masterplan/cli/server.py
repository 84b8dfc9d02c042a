"""Run the app in a background thread on a free loopback port (demo, tests of the CLI, benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from masterplan.config import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def background_server(settings: Settings, port: int | None = None) -> Iterator[str]:
    """Serve the app on 127.0.0.1 until the block ends; yields the base URL."""
    from masterplan.realtime.server import create_asgi_app

    port = port or free_port()
    config = uvicorn.Config(
        create_asgi_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="masterplan-server", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.started:
            break
        if not thread.is_alive():
            raise RuntimeError("the server stopped while starting; see the log above")
        time.sleep(0.05)
    else:
        raise RuntimeError("the server did not start within 30 s")
    try:
        httpx.get(f"{base}/api/v1/health", timeout=5).raise_for_status()
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
