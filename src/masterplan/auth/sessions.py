"""Sign-in sessions: a rotating refresh token per session, short-lived access tokens, one-time codes."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from masterplan.auth import access_tokens
from masterplan.auth.hashing import hash_token
from masterplan.auth.ratelimit import as_utc
from masterplan.config import Settings
from masterplan.models import AuthSession, SignInCode, User

REFRESH_PREFIX = "mpr_"
CODE_PREFIX = "mpc_"


@dataclass(frozen=True)
class TokenGrant:
    """What a successful sign-in or refresh hands to the client."""

    user: User
    session_id: uuid.UUID
    access_token: str
    access_expires_in: int
    refresh_token: str
    refresh_expires_at: datetime


def _grant(
    session: Session, user: User, auth_session: AuthSession, refresh_token: str, settings: Settings
) -> TokenGrant:
    lifetime = timedelta(minutes=settings.access_token_minutes)
    access = access_tokens.issue(session, user_id=user.id, session_id=auth_session.id, lifetime=lifetime)
    return TokenGrant(
        user=user,
        session_id=auth_session.id,
        access_token=access,
        access_expires_in=int(lifetime.total_seconds()),
        refresh_token=refresh_token,
        refresh_expires_at=as_utc(auth_session.expires_at),
    )


def start_session(
    session: Session,
    user: User,
    settings: Settings,
    *,
    method: str,
    client_address: str | None = None,
    user_agent: str = "",
) -> TokenGrant:
    """Open a session for a user who just proved who they are."""
    now = datetime.now(UTC)
    refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
    auth_session = AuthSession(
        user_id=user.id,
        refresh_token_hash=hash_token(refresh),
        expires_at=now + timedelta(days=settings.refresh_token_days),
        last_used_at=now,
        client_address=client_address,
        user_agent=user_agent[:300],
        method=method,
    )
    session.add(auth_session)
    session.flush()
    return _grant(session, user, auth_session, refresh, settings)


def refresh_session(
    session: Session, settings: Settings, refresh_token: str, *, client_address: str | None = None
) -> TokenGrant | None:
    """Rotate a refresh token into a new pair; None when it is unknown, expired or revoked.

    A refresh token that was already rotated away is a stolen copy: its whole session is revoked.
    """
    now = datetime.now(UTC)
    presented = hash_token(refresh_token)
    row = session.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.refresh_token_hash == presented)
    ).first()
    if row is None:
        reused = session.scalars(
            select(AuthSession).where(AuthSession.previous_refresh_hash == presented)
        ).first()
        if reused is not None and reused.revoked_at is None:
            reused.revoked_at = now
        return None
    auth_session, user = row
    if auth_session.revoked_at is not None or as_utc(auth_session.expires_at) <= now or not user.is_active:
        return None
    fresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
    auth_session.previous_refresh_hash = presented
    auth_session.refresh_token_hash = hash_token(fresh)
    auth_session.expires_at = now + timedelta(days=settings.refresh_token_days)
    auth_session.last_used_at = now
    if client_address:
        auth_session.client_address = client_address
    session.flush()
    return _grant(session, user, auth_session, fresh, settings)


def session_for_refresh_token(session: Session, refresh_token: str) -> AuthSession | None:
    return session.scalars(
        select(AuthSession).where(AuthSession.refresh_token_hash == hash_token(refresh_token))
    ).first()


def revoke_session(session: Session, session_id: uuid.UUID) -> bool:
    """End one session (its refresh token and every access token issued for it)."""
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return bool(getattr(result, "rowcount", 0))


def revoke_user_sessions(session: Session, user_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> None:
    """End every session of a user (except `keep`, the one making the change)."""
    stmt = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    session.execute(stmt.values(revoked_at=datetime.now(UTC)))


def active_session_user(session: Session, claims: access_tokens.AccessClaims) -> User | None:
    """The user behind an access token while its session is open and the user active."""
    row = session.execute(
        select(AuthSession.expires_at, User)
        .join(User, User.id == AuthSession.user_id)
        .where(
            AuthSession.id == claims.session_id,
            AuthSession.user_id == claims.user_id,
            AuthSession.revoked_at.is_(None),
            User.is_active.is_(True),
        )
    ).first()
    if row is None or as_utc(row[0]) <= datetime.now(UTC):
        return None
    return row[1]


def issue_sign_in_code(session: Session, user: User, settings: Settings) -> tuple[str, datetime]:
    """A one-time code that signs the user in once, and when it expires (`signin_code_minutes`)."""
    code = CODE_PREFIX + secrets.token_urlsafe(24)
    expires_at = datetime.now(UTC) + timedelta(minutes=settings.signin_code_minutes)
    session.add(SignInCode(user_id=user.id, code_hash=hash_token(code), expires_at=expires_at))
    session.flush()
    return code, expires_at


def redeem_sign_in_code(session: Session, code: str) -> User | None:
    """The user a fresh, unused code belongs to, marking it used; None for any other code."""
    now = datetime.now(UTC)
    row = session.execute(
        select(SignInCode, User)
        .join(User, User.id == SignInCode.user_id)
        .where(SignInCode.code_hash == hash_token(code), SignInCode.used_at.is_(None))
        .with_for_update()
    ).first()
    if row is None:
        return None
    sign_in_code, user = row
    sign_in_code.used_at = now
    if as_utc(sign_in_code.expires_at) <= now or not user.is_active:
        return None
    return user
