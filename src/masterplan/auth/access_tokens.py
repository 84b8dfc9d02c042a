"""Short-lived JWT access tokens (HS256), signed with a key every API process reads from the database."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.models import SigningKey

ALGORITHM = "HS256"
ISSUER = "masterplan"
ACCESS_TYPE = "access"
# Keys never change once written, so a lookup by (database, kid) can be remembered for the process.
_secrets: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: datetime


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


def _database(session: Session) -> str:
    bind = session.get_bind()
    return str(bind.engine.url)


def current_key(session: Session) -> tuple[str, str]:
    """The newest signing key (kid, secret), created on first use."""
    key = session.scalars(select(SigningKey).order_by(SigningKey.created_at.desc()).limit(1)).first()
    if key is None:
        key = SigningKey(kid=uuid.uuid4().hex, secret=secrets.token_urlsafe(48))
        session.add(key)
        session.flush()
    _secrets[(_database(session), key.kid)] = key.secret
    return key.kid, key.secret


def _secret_for(session: Session, kid: str) -> str | None:
    cache_key = (_database(session), kid)
    if cache_key not in _secrets:
        secret = session.scalar(select(SigningKey.secret).where(SigningKey.kid == kid))
        if secret is None:
            return None
        _secrets[cache_key] = secret
    return _secrets[cache_key]


def issue(
    session: Session,
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    lifetime: timedelta,
    now: datetime | None = None,
) -> str:
    """A signed access token for one user and sign-in session."""
    issued = now or datetime.now(UTC)
    kid, secret = current_key(session)
    claims = {
        "iss": ISSUER,
        "sub": str(user_id),
        "sid": str(session_id),
        "typ": ACCESS_TYPE,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": kid})


def decode(session: Session, token: str) -> AccessClaims | None:
    """The claims of a valid, unexpired access token signed by one of our keys; None otherwise."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str):
            return None
        secret = _secret_for(session, kid)
        if secret is None:
            return None
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "sid", "typ"]},
        )
        if claims.get("typ") != ACCESS_TYPE:
            return None
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            session_id=uuid.UUID(claims["sid"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
