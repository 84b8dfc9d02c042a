"""Personal API tokens for the CLI and scripts: created once (the secret is shown only then), listed, revoked."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.auth.hashing import hash_token
from masterplan.auth.tokens import ADMIN_TOKEN_NAME, new_token
from masterplan.errors import Conflict, NotFound
from masterplan.models import ApiToken, User
from masterplan.plans.audit import record_history


def create_token(
    session: Session,
    user: User,
    name: str,
    *,
    expires_in_days: int | None = None,
    actor: User | None = None,
    client_address: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the secret, which is never stored."""
    secret = new_token()
    expires_at = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(secret), expires_at=expires_at)
    session.add(token)
    session.flush()
    record_history(
        session,
        actor=actor or user,
        action="token_created",
        masterplan_id=None,
        target_type="api_token",
        target_id=str(token.id),
        after={
            "name": name,
            "user": user.email,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
        client_address=client_address,
    )
    return token, secret


def list_tokens(session: Session, user: User, *, include_revoked: bool = False) -> Sequence[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at, ApiToken.id)
    if not include_revoked:
        stmt = stmt.where(ApiToken.revoked_at.is_(None))
    return session.scalars(stmt).all()


def revoke_token(
    session: Session, user: User, token_id: uuid.UUID, *, client_address: str | None = None
) -> ApiToken:
    """Revoke one of the user's tokens (admins may revoke anyone's); another user's id is 404."""
    stmt = select(ApiToken).where(ApiToken.id == token_id)
    if user.role != "admin":
        stmt = stmt.where(ApiToken.user_id == user.id)
    token = session.scalars(stmt).one_or_none()
    if token is None:
        raise NotFound(f"token {token_id} not found", code="token_not_found")
    if token.name == ADMIN_TOKEN_NAME:
        raise Conflict("the admin token is managed by MASTERPLAN_ADMIN_TOKEN; change or unset it instead")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        record_history(
            session,
            actor=user,
            action="token_revoked",
            masterplan_id=None,
            target_type="api_token",
            target_id=str(token.id),
            before={"name": token.name},
            client_address=client_address,
        )
    return token
