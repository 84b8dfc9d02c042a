"""User management for admins: list, create, change role, disable, and one-time sign-in links."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from masterplan.auth import sessions, users
from masterplan.auth.dependencies import AdminUser
from masterplan.auth.schemas import ADMIN_ONLY, SignInLink, UserCreate, UserOut, UserPage, UserUpdate
from masterplan.deps import ClientAddress, RuntimeDep, SessionDep
from masterplan.errors import Conflict
from masterplan.plans.audit import record_history

router = APIRouter(prefix="/users", tags=["users"], responses=ADMIN_ONLY)


@router.get("", response_model=UserPage)
def list_users(
    session: SessionDep,
    _admin: AdminUser,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> UserPage:
    """Every account, oldest first (admins only)."""
    rows, total = users.list_users(session, limit=limit, offset=offset)
    return UserPage(items=[UserOut.of(u) for u in rows], total=total, limit=limit, offset=offset)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserOut)
def create_user(body: UserCreate, session: SessionDep, admin: AdminUser, client: ClientAddress) -> UserOut:
    """Create an account (admins only); without a password, invite with POST /users/{id}/signin-code."""
    user = users.create_user(
        session,
        admin,
        email=body.email,
        display_name=body.display_name,
        password=body.password,
        role=body.role,
        client_address=client,
    )
    return UserOut.of(user)


@router.get("/{user_id}", response_model=UserOut)
def get_user(user_id: uuid.UUID, session: SessionDep, _admin: AdminUser) -> UserOut:
    """One account (admins only)."""
    return UserOut.of(users.get_user(session, user_id))


@router.patch("/{user_id}", response_model=UserOut)
def update_user(
    user_id: uuid.UUID, body: UserUpdate, session: SessionDep, admin: AdminUser, client: ClientAddress
) -> UserOut:
    """Change name, role, password or active flag (admins only); disabling ends every session at once."""
    user = users.update_user(
        session,
        admin,
        users.get_user(session, user_id),
        display_name=body.display_name,
        role=body.role,
        is_active=body.is_active,
        password=body.password,
        client_address=client,
    )
    return UserOut.of(user)


@router.post("/{user_id}/signin-code", status_code=status.HTTP_201_CREATED, response_model=SignInLink)
def create_sign_in_link(
    user_id: uuid.UUID, session: SessionDep, runtime: RuntimeDep, admin: AdminUser, client: ClientAddress
) -> SignInLink:
    """A one-time sign-in link for an account (admins only), e.g. to invite someone without a password."""
    user = users.get_user(session, user_id)
    if not user.is_active:
        raise Conflict(f"user {user.email} is disabled; enable it first", code="user_disabled")
    code, expires_at = sessions.issue_sign_in_code(session, user, runtime.settings)
    record_history(
        session,
        actor=admin,
        action="signin_link_created",
        masterplan_id=None,
        target_type="user",
        target_id=str(user.id),
        client_address=client,
    )
    return SignInLink(code=code, path=f"/?signin={code}", expires_at=expires_at)
