"""Helpers shared by the realtime tests and the worker subprocess (no app imports: cheap to load)."""

from __future__ import annotations

import socket
import uuid
from typing import Any

from masterplan.auth.tokens import hash_token, new_token
from masterplan.events import plan_stream, record_event
from masterplan.models import ApiToken, Conversation, User
from masterplan.plans import service
from masterplan.plans.synthetic import synthetic_plan
from masterplan.runtime import Runtime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def create_plan(runtime: Runtime, owner: User, tasks: int = 6) -> uuid.UUID:
    """A real draft plan owned by `owner`."""
    with runtime.transaction() as session:
        user = session.get(User, owner.id)
        assert user is not None
        plan = service.create_plan(session, user, synthetic_plan(tasks, seed=7))
        plan_id: uuid.UUID = plan.id
        return plan_id


def create_conversation(runtime: Runtime, owner: User) -> uuid.UUID:
    with runtime.transaction() as session:
        conversation = Conversation(owner_id=owner.id, title="chat")
        session.add(conversation)
        session.flush()
        conversation_id: uuid.UUID = conversation.id
        return conversation_id


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
