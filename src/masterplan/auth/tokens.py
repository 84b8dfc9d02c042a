"""Tokens: personal API tokens (stored only as a hash), the local and admin tokens, and resolving any
bearer token (API token or JWT access token) to its user."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.auth import access_tokens
from masterplan.auth.hashing import hash_token as hash_token  # re-exported for callers
from masterplan.auth.ratelimit import as_utc
from masterplan.auth.sessions import active_session_user
from masterplan.config import Settings
from masterplan.models import ApiToken, User

LOCAL_EMAIL = "local@masterplan"
AUTOMATION_EMAIL = "automation@masterplan"
ADMIN_TOKEN_NAME = "MASTERPLAN_ADMIN_TOKEN"
MAX_TOKEN_LENGTH = 4096


def new_token() -> str:
    return "mp_" + secrets.token_urlsafe(32)


def user_for_token(session: Session, token: str) -> User | None:
    """The active user behind a bearer token: a JWT access token of an open session, or an API token
    (personal, local or admin) that is neither revoked nor expired. Only reads: safe in read sessions."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    if access_tokens.looks_like_jwt(token):
        claims = access_tokens.decode(session, token)
        return active_session_user(session, claims) if claims else None
    row = session.execute(
        select(ApiToken.expires_at, User)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None), User.is_active.is_(True)
        )
    ).first()
    if row is None:
        return None
    expires_at, user = row
    if expires_at is not None and as_utc(expires_at) <= datetime.now(UTC):
        return None
    return user


def local_token(settings: Settings) -> str:
    """The local user's token: from settings, else from data_dir/local_token (created on first use)."""
    configured = settings.local_token.get_secret_value()
    if configured:
        return configured
    path = Path(settings.data_dir) / "local_token"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = new_token()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    return token


def ensure_local_user(session: Session, settings: Settings) -> User:
    """The local admin user of a single-machine install, with the local token registered."""
    user = session.scalars(select(User).where(User.email == LOCAL_EMAIL)).one_or_none()
    if user is None:
        user = User(email=LOCAL_EMAIL, display_name="Local user", role="admin")
        session.add(user)
        session.flush()
    token_hash = hash_token(local_token(settings))
    exists = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).one_or_none()
    if exists is None:
        session.add(
            ApiToken(user_id=user.id, name="local", token_hash=token_hash, last_used_at=datetime.now(UTC))
        )
        session.flush()
    return user


def ensure_admin_token(session: Session, settings: Settings) -> User | None:
    """Register MASTERPLAN_ADMIN_TOKEN for the automation admin; a replaced or removed one stops working."""
    configured = settings.admin_token.get_secret_value()
    wanted = hash_token(configured) if configured else None
    now = datetime.now(UTC)
    for row in session.scalars(
        select(ApiToken).where(ApiToken.name == ADMIN_TOKEN_NAME, ApiToken.revoked_at.is_(None))
    ):
        if row.token_hash != wanted:
            row.revoked_at = now
    session.flush()
    if wanted is None:
        return None
    user = session.scalars(select(User).where(User.email == AUTOMATION_EMAIL)).one_or_none()
    if user is None:
        user = User(email=AUTOMATION_EMAIL, display_name="Automation (MASTERPLAN_ADMIN_TOKEN)", role="admin")
        session.add(user)
        session.flush()
    user.role, user.is_active = "admin", True
    existing = session.scalars(select(ApiToken).where(ApiToken.token_hash == wanted)).one_or_none()
    if existing is None:
        session.add(ApiToken(user_id=user.id, name=ADMIN_TOKEN_NAME, token_hash=wanted))
    elif existing.user_id == user.id:
        existing.revoked_at = None
    session.flush()
    return user
