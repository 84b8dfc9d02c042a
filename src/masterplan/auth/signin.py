"""Signing in: password checks with lockout after repeated failures, one-time codes, audit of each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from masterplan.auth import ratelimit
from masterplan.auth.passwords import hash_password, needs_rehash, verify_password
from masterplan.auth.sessions import TokenGrant, redeem_sign_in_code, start_session
from masterplan.auth.users import by_email
from masterplan.config import Settings
from masterplan.models import User
from masterplan.plans.audit import record_history

# An address may fail this many times more than one account before it is locked out as a whole.
ADDRESS_FACTOR = 10


@dataclass(frozen=True)
class SignInOutcome:
    """A grant on success; otherwise `retry_after` > 0 when locked out, or neither for bad credentials."""

    grant: TokenGrant | None = None
    retry_after: int = 0


def account_key(email: str) -> str:
    return f"signin:account:{email.strip().lower()}"


def address_key(client_address: str | None) -> str:
    return f"signin:address:{client_address or 'unknown'}"


def _lockout_wait(session: Session, settings: Settings, email: str, client_address: str | None) -> int:
    window = timedelta(minutes=settings.signin_lockout_minutes)
    limit = settings.signin_max_failures
    return max(
        ratelimit.retry_after(session, account_key(email), limit=limit, window=window),
        ratelimit.retry_after(
            session, address_key(client_address), limit=limit * ADDRESS_FACTOR, window=window
        ),
    )


def _audit(
    session: Session,
    user: User | None,
    action: str,
    *,
    email: str,
    client_address: str | None,
    details: dict[str, object] | None = None,
) -> None:
    entry = record_history(
        session,
        actor=user,
        action=action,
        masterplan_id=None,
        target_type="user",
        target_id=str(user.id) if user else None,
        after={"email": email, **(details or {})},
        client_address=client_address,
    )
    if user is None:
        entry.actor = email[:320]


def sign_in_with_password(
    session: Session,
    settings: Settings,
    *,
    email: str,
    password: str,
    client_address: str | None,
    user_agent: str = "",
) -> SignInOutcome:
    """Check a password. Failures are counted (and audited) in this transaction, so commit it even
    when no grant comes back; a locked account is refused without checking the password."""
    address = email.strip().lower()
    wait = _lockout_wait(session, settings, address, client_address)
    if wait:
        return SignInOutcome(retry_after=wait)
    user = by_email(session, address)
    password_hash = user.password_hash if user and user.is_active else None
    if not verify_password(password_hash, password) or user is None:
        window = timedelta(minutes=settings.signin_lockout_minutes)
        ratelimit.record(session, account_key(address), window=window)
        ratelimit.record(session, address_key(client_address), window=window)
        _audit(session, user, "sign_in_failed", email=address, client_address=client_address)
        wait = _lockout_wait(session, settings, address, client_address)
        if wait:
            _audit(
                session,
                user,
                "sign_in_locked",
                email=address,
                client_address=client_address,
                details={"retry_after": wait},
            )
        return SignInOutcome()
    if password_hash and needs_rehash(password_hash):
        user.password_hash = hash_password(password)
    ratelimit.clear(session, account_key(address))
    grant = start_session(
        session, user, settings, method="password", client_address=client_address, user_agent=user_agent
    )
    _audit(
        session,
        user,
        "signed_in",
        email=address,
        client_address=client_address,
        details={"method": "password"},
    )
    return SignInOutcome(grant=grant)


def sign_in_with_code(
    session: Session, settings: Settings, *, code: str, client_address: str | None, user_agent: str = ""
) -> TokenGrant | None:
    """Exchange a one-time code for a session; None when the code is unknown, used or expired."""
    user = redeem_sign_in_code(session, code)
    if user is None:
        return None
    grant = start_session(
        session, user, settings, method="signin_code", client_address=client_address, user_agent=user_agent
    )
    _audit(
        session,
        user,
        "signed_in",
        email=user.email,
        client_address=client_address,
        details={"method": "signin_code"},
    )
    return grant
