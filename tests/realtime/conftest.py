"""A real server (API + Socket.IO) on a loopback port; plans, conversations and users in the real database."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from masterplan.auth.tokens import hash_token, new_token
from masterplan.cli.server import free_port
from masterplan.events import plan_stream, record_event
from masterplan.models import ApiToken, Conversation, User
from masterplan.plans import service
from masterplan.plans.synthetic import synthetic_plan
from masterplan.realtime.server import create_asgi_app
from masterplan.runtime import Runtime


@contextmanager
def serve(runtime: Runtime) -> Iterator[str]:
    """uvicorn serving create_asgi_app(runtime) in a thread until the block ends; yields the base URL."""
    port = free_port()
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


def create_plan(runtime: Runtime, owner: User, tasks: int = 6) -> uuid.UUID:
    """A real draft plan owned by `owner`."""
    with runtime.transaction() as session:
        user = session.get(User, owner.id)
        assert user is not None
        plan = service.create_plan(session, user, synthetic_plan(tasks, seed=7))
        return plan.id


def create_conversation(runtime: Runtime, owner: User) -> uuid.UUID:
    with runtime.transaction() as session:
        conversation = Conversation(owner_id=owner.id, title="chat")
        session.add(conversation)
        session.flush()
        return conversation.id


def create_user(runtime: Runtime, email: str) -> tuple[User, str]:
    """A second, non-admin user with an API token of its own."""
    token = new_token()
    with runtime.transaction() as session:
        user = User(email=email, display_name=email, role="member")
        session.add(user)
        session.flush()
        session.add(ApiToken(user_id=user.id, name="test", token_hash=hash_token(token)))
        session.flush()
        session.expunge(user)
    return user, token


def record_progress(runtime: Runtime, plan_id: uuid.UUID, count: int, start: int = 1, **extra: Any) -> None:
    """Commit `count` task progress events, one transaction each (the real publishing path)."""
    for number in range(start, start + count):
        with runtime.transaction() as session:
            record_event(
                session,
                plan_stream(plan_id),
                "task_execution_progress",
                {
                    "task_id": str(uuid.uuid5(plan_id, str(number))),
                    "task_number": number,
                    "status": "in_progress",
                    "current_task": number,
                    "total_tasks": start + count - 1,
                    **extra,
                },
                masterplan_id=plan_id,
            )
