"""FastAPI dependencies, declared once as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from masterplan.auth.tokens import user_for_token
from masterplan.errors import Unauthorized
from masterplan.models import User
from masterplan.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="An API token (`mp_...`).")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(request: Request, runtime: RuntimeDep) -> Iterator[Session]:
    """A request session: commits when the handler succeeds, rolls back when it raises.

    GET and HEAD requests read without taking SQLite's write lock. A handler must not open a second
    writing transaction while its request session is open.
    """
    if request.method in ("GET", "HEAD"):
        with runtime.reading() as session:
            yield session
        return
    with runtime.transaction() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_current_user(
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    if credentials is None:
        raise Unauthorized("authentication required: send 'Authorization: Bearer <token>'")
    user = user_for_token(session, credentials.credentials)
    if user is None:
        raise Unauthorized("the token is unknown, revoked or belongs to a disabled user")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


ClientAddress = Annotated[str | None, Depends(client_address)]
