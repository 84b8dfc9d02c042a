"""Sign-in state: sessions behind refresh tokens, one-time sign-in codes, JWT keys, rate-limit hits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from masterplan.models.base import Base, IdMixin, TimestampMixin, utcnow


class AuthSession(IdMixin, TimestampMixin, Base):
    """One signed-in browser or client: its refresh token rotates; revoking it ends its access tokens."""

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    refresh_token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    # The hash the last rotation replaced: presenting it again means the token was stolen.
    previous_refresh_hash: Mapped[str | None] = mapped_column(String(128), index=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    client_address: Mapped[str | None] = mapped_column(String(100))
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    method: Mapped[str] = mapped_column(String(20), default="password")


class SignInCode(IdMixin, TimestampMixin, Base):
    """A one-time code printed by `masterplan serve`, exchanged once for a session."""

    __tablename__ = "sign_in_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(128), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class SigningKey(Base):
    """HMAC keys for access tokens, shared by every API process through the database."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateLimitHit(IdMixin, Base):
    """One counted event (a failed sign-in, a generation) under a limiter key."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key_created", "key", "created_at"),)

    key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
