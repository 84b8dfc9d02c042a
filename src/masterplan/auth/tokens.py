"""API tokens: generated once, stored only as a hash, resolved to their user."""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.config import Settings
from masterplan.models import ApiToken, User

LOCAL_EMAIL = "local@masterplan"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "mp_" + secrets.token_urlsafe(32)


def user_for_token(session: Session, token: str) -> User | None:
    """The active user owning a valid, unrevoked token."""
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None), User.is_active.is_(True)
        )
    ).first()
    return row[1] if row else None


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
