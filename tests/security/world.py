"""A small world owned by one member, and the path values that point into it.

The access matrix fills every path parameter of every route from `OBJECT_PARAMS`. A route with a
parameter missing here fails the matrix with a message asking for one more entry: a new kind of id
is exactly what must be checked for isolation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from masterplan.auth import access_tokens, api_tokens, sessions, users
from masterplan.models import (
    AcceptanceTest,
    Conversation,
    DiscoveryDocument,
    Generation,
    Review,
    Task,
    User,
)
from masterplan.plans import service
from masterplan.plans.synthetic import synthetic_plan
from masterplan.runtime import Runtime


@dataclass
class Member:
    user: User
    token: str


@dataclass
class World:
    """Objects owned by `owner`; `ids` maps path parameter names to their values."""

    ids: dict[str, str] = field(default_factory=dict)

    def object_ids(self) -> set[str]:
        return {value for name, value in self.ids.items() if name not in NON_OBJECT_PARAMS}


# Path parameters that are not object ids (a version number, a file path inside a workspace).
NON_OBJECT_PARAMS = {"version", "path", "file_path"}
NON_OBJECT_VALUES = {"version": "1", "path": "README.md", "file_path": "README.md"}


def add_member(runtime: Runtime, email: str, *, role: users.Role = "member") -> Member:
    with runtime.transaction() as session:
        user = users.create_user(session, None, email=email, role=role)
        _, secret = api_tokens.create_token(session, user, "matrix")
        session.expunge(user)
    return Member(user=user, token=secret)


def build_world(runtime: Runtime, owner: User) -> World:
    """One of every object a member can own, created through the services or as plain rows."""
    with runtime.transaction() as session:
        me = session.get(User, owner.id)
        assert me is not None
        plan = service.create_plan(session, me, synthetic_plan(6, seed=5), action="imported")
        task = session.scalars(
            select(Task).where(Task.masterplan_id == plan.id).order_by(Task.task_number)
        ).first()
        assert task is not None
        conversation = Conversation(owner_id=me.id, title="matrix")
        session.add(conversation)
        session.flush()
        discovery = DiscoveryDocument(
            owner_id=me.id, conversation_id=conversation.id, request_text="a todo app"
        )
        session.add(discovery)
        session.flush()
        generation = Generation(
            owner_id=me.id,
            conversation_id=conversation.id,
            request_text="a todo app",
            status="completed",
            stage="complete",
            discovery_id=discovery.id,
            masterplan_id=plan.id,
        )
        test = AcceptanceTest(masterplan_id=plan.id, name="it starts", command="true")
        review = Review(masterplan_id=plan.id, task_id=task.id, confidence=0.3)
        session.add_all([generation, test, review])
        token, _ = api_tokens.create_token(session, me, "owned")
        session.flush()
        ids = {
            "plan_id": plan.id,
            "masterplan_id": plan.id,
            "task_id": task.id,
            "conversation_id": conversation.id,
            "discovery_id": discovery.id,
            "generation_id": generation.id,
            "test_id": test.id,
            "review_id": review.id,
            "token_id": token.id,
            "user_id": me.id,
        }
    return World(ids={**{k: str(v) for k, v in ids.items()}, **NON_OBJECT_VALUES})


def expired_access_token(runtime: Runtime, user: User) -> str:
    """A correctly signed access token of a live session, whose lifetime ended an hour ago."""
    with runtime.transaction() as session:
        me = session.get(User, user.id)
        assert me is not None
        grant = sessions.start_session(session, me, runtime.settings, method="password")
        return access_tokens.issue(
            session,
            user_id=me.id,
            session_id=grant.session_id,
            lifetime=timedelta(minutes=5),
            now=datetime.now(UTC) - timedelta(hours=1),
        )


def revoked_api_token(runtime: Runtime, user: User) -> str:
    with runtime.transaction() as session:
        me = session.get(User, user.id)
        assert me is not None
        token, secret = api_tokens.create_token(session, me, "revoked")
        api_tokens.revoke_token(session, me, token.id)
    return secret


def unknown_ids(world: World) -> dict[str, str]:
    """The same path values with every object id replaced by one nobody has."""
    return {
        name: value if name in NON_OBJECT_PARAMS else str(uuid.uuid4()) for name, value in world.ids.items()
    }
