"""Auth dependencies for endpoints: admin-only routes, the caller's sign-in session, generation limits."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from masterplan.auth import access_tokens, ratelimit
from masterplan.deps import CurrentUser, RuntimeDep, SessionDep
from masterplan.errors import Forbidden
from masterplan.models import User

_bearer = HTTPBearer(auto_error=False, description="An API token (`mp_...`) or a JWT access token.")


def require_admin(user: CurrentUser) -> User:
    """The caller, when an admin; 403 for members."""
    if user.role != "admin":
        raise Forbidden("this needs the admin role", code="admin_required")
    return user


AdminUser = Annotated[User, Depends(require_admin)]


def current_session_id(
    session: SessionDep,
    _user: CurrentUser,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> uuid.UUID | None:
    """The sign-in session behind the caller's access token (None for API tokens)."""
    if credentials is None or not access_tokens.looks_like_jwt(credentials.credentials):
        return None
    claims = access_tokens.decode(session, credentials.credentials)
    return claims.session_id if claims else None


CurrentSessionId = Annotated[uuid.UUID | None, Depends(current_session_id)]


def limit_generation(session: SessionDep, user: CurrentUser, runtime: RuntimeDep) -> None:
    """429 when the caller started `generation_requests_per_hour` generations in the last hour."""
    ratelimit.check(
        session,
        f"generation:{user.id}",
        limit=runtime.settings.generation_requests_per_hour,
        window=timedelta(hours=1),
        what="generation requests",
    )


GenerationAllowance = Annotated[None, Depends(limit_generation)]
