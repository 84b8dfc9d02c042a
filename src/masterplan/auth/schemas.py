"""Request and response shapes of the auth, token and user endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from masterplan.auth.passwords import MAX_LENGTH as PASSWORD_MAX
from masterplan.errors import ErrorResponse
from masterplan.models import ApiToken, User

Role = Literal["admin", "member"]
ADMIN_ONLY: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorResponse, "description": "Signed in as a member: this needs the admin role"}
}
WRONG_PASSWORD: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorResponse, "description": "The current password is wrong"}
}
RATE_LIMITED: dict[int | str, dict[str, object]] = {
    429: {
        "model": ErrorResponse,
        "description": "Too many requests; the Retry-After header says when to retry",
    }
}
Email = Field(min_length=3, max_length=320, description="The account's email address.")


class LoginRequest(BaseModel):
    email: str = Email
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class SignInCodeRequest(BaseModel):
    code: str = Field(
        min_length=1, max_length=200, description="The `signin` value of a one-time sign-in URL."
    )


class RefreshRequest(BaseModel):
    refresh_token: str | None = Field(
        None, max_length=200, description="Omit to use the HttpOnly `mp_refresh` cookie set at sign-in."
    )


class LogoutRequest(BaseModel):
    refresh_token: str | None = Field(None, max_length=200, description="Ends this token's session.")


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    is_active: bool
    has_password: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role="admin" if user.role == "admin" else "member",
            is_active=user.is_active,
            has_password=user.password_hash is not None,
            created_at=user.created_at,
        )


class TokenResponse(BaseModel):
    """A signed-in session: send `access_token` as a bearer token; renew it with `refresh_token`."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the access token stays valid.")
    refresh_token: str
    refresh_expires_at: datetime = Field(description="When the session ends unless refreshed before.")
    user: UserOut


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int


class UserCreate(BaseModel):
    email: str = Email
    display_name: str = Field("", max_length=200)
    password: str | None = Field(
        None, max_length=PASSWORD_MAX, description="Omit to invite with a one-time sign-in link instead."
    )
    role: Role = "member"


class UserUpdate(BaseModel):
    display_name: str | None = Field(None, max_length=200)
    role: Role | None = None
    is_active: bool | None = Field(None, description="false disables the account and ends its sessions.")
    password: str | None = Field(None, max_length=PASSWORD_MAX)


class ProfileUpdate(BaseModel):
    display_name: str = Field(max_length=200)


class PasswordChange(BaseModel):
    current_password: str | None = Field(
        None, max_length=PASSWORD_MAX, description="Required when the account already has a password."
    )
    new_password: str = Field(max_length=PASSWORD_MAX)


class SignInLink(BaseModel):
    """A one-time sign-in code; open `path` on the server (or POST the code to /auth/signin-code)."""

    code: str
    path: str
    expires_at: datetime


class ApiTokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="What the token is for, e.g. 'laptop CLI'.")
    expires_in_days: int | None = Field(
        None, ge=1, le=3650, description="Omit for a token that never expires."
    )


class ApiTokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> ApiTokenOut:
        return cls.model_validate(token)


class ApiTokenCreated(ApiTokenOut):
    token: str = Field(description="The secret: shown only in this response, store it now.")
