"""Users: create, list, change and disable accounts; roles admin (sees all, manages users) and member."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from masterplan.auth.passwords import hash_password, verify_password
from masterplan.auth.sessions import revoke_user_sessions
from masterplan.errors import Conflict, DomainError, Forbidden, NotFound
from masterplan.models import User
from masterplan.plans.audit import record_history

Role = Literal["admin", "member"]
ROLES: tuple[Role, ...] = ("admin", "member")


class InvalidEmail(DomainError):
    status_code = 422
    code = "invalid_email"


def normalize_email(email: str) -> str:
    """Lower-cased and trimmed; refuses strings that cannot be an address."""
    value = email.strip().lower()
    local, _, domain = value.partition("@")
    if not local or not domain or any(ch.isspace() for ch in value) or len(value) > 320:
        raise InvalidEmail(f"{email!r} is not an email address (expected name@domain)")
    return value


def by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email.strip().lower())).one_or_none()


def get_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found", code="user_not_found")
    return user


def find_user(session: Session, ref: str) -> User:
    """A user by email or id (the CLI's way of naming one)."""
    try:
        return get_user(session, uuid.UUID(ref))
    except ValueError:
        user = by_email(session, ref)
        if user is None:
            raise NotFound(f"no user with email {ref!r}", code="user_not_found") from None
        return user


def list_users(session: Session, *, limit: int = 100, offset: int = 0) -> tuple[Sequence[User], int]:
    total = session.scalar(select(func.count()).select_from(User)) or 0
    rows = session.scalars(select(User).order_by(User.created_at, User.id).limit(limit).offset(offset)).all()
    return rows, total


def public_fields(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "is_active": user.is_active,
        "has_password": user.password_hash is not None,
    }


def create_user(
    session: Session,
    actor: User | None,
    *,
    email: str,
    display_name: str = "",
    password: str | None = None,
    role: Role = "member",
    client_address: str | None = None,
) -> User:
    """A new account; 409 when the email is taken, 422 for a weak password."""
    address = normalize_email(email)
    if by_email(session, address) is not None:
        raise Conflict(f"a user with email {address} already exists", code="user_exists")
    user = User(
        email=address,
        display_name=display_name or address.split("@")[0],
        password_hash=hash_password(password) if password is not None else None,
        role=role,
        is_active=True,
    )
    session.add(user)
    session.flush()
    record_history(
        session,
        actor=actor,
        action="user_created",
        masterplan_id=None,
        target_type="user",
        target_id=str(user.id),
        after=public_fields(user),
        client_address=client_address,
    )
    return user


def _other_active_admins(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == "admin", User.is_active.is_(True), User.id != user.id)
        )
        or 0
    )


def update_user(
    session: Session,
    actor: User | None,
    user: User,
    *,
    display_name: str | None = None,
    role: Role | None = None,
    is_active: bool | None = None,
    password: str | None = None,
    client_address: str | None = None,
    keep_session_id: uuid.UUID | None = None,
) -> User:
    """Change an account; the last active admin can be neither demoted nor disabled (409)."""
    before = public_fields(user)
    losing_admin = user.role == "admin" and user.is_active and (role == "member" or is_active is False)
    if losing_admin and _other_active_admins(session, user) == 0:
        raise Conflict("this is the last active admin; make another user admin first", code="last_admin")
    if display_name is not None:
        user.display_name = display_name
    if role is not None:
        user.role = role
    if password is not None:
        user.password_hash = hash_password(password)
    if is_active is not None:
        user.is_active = is_active
    if is_active is False or password is not None:
        revoke_user_sessions(session, user.id, keep=keep_session_id if is_active is not False else None)
    session.flush()
    after = public_fields(user)
    if after != before or password is not None:
        record_history(
            session,
            actor=actor,
            action=_action(before, after, password is not None),
            masterplan_id=None,
            target_type="user",
            target_id=str(user.id),
            before=before,
            after={**after, "password_changed": password is not None},
            client_address=client_address,
        )
    return user


def _action(before: dict[str, Any], after: dict[str, Any], password_changed: bool) -> str:
    if before["is_active"] and not after["is_active"]:
        return "user_disabled"
    if not before["is_active"] and after["is_active"]:
        return "user_enabled"
    if before["role"] != after["role"]:
        return "role_changed"
    changed = {key for key in after if after[key] != before[key]} - {"has_password"}
    return "password_changed" if password_changed and not changed else "user_updated"


def change_own_password(
    session: Session,
    user: User,
    *,
    current: str | None,
    new: str,
    client_address: str | None = None,
    keep_session_id: uuid.UUID | None = None,
) -> None:
    """Set a new password, ending the user's other sessions; the current password is required when
    the account has one."""
    if user.password_hash is not None and not verify_password(user.password_hash, current or ""):
        raise Forbidden("the current password is wrong", code="wrong_password")
    update_user(
        session, user, user, password=new, client_address=client_address, keep_session_id=keep_session_id
    )
