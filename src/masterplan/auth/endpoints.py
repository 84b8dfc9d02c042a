"""Sign-in endpoints (login, one-time code, refresh, logout), the caller's profile and API tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from masterplan.auth import access_tokens, api_tokens, sessions, signin, users
from masterplan.auth.dependencies import CurrentSessionId
from masterplan.auth.schemas import (
    RATE_LIMITED,
    WRONG_PASSWORD,
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenOut,
    LoginRequest,
    LogoutRequest,
    PasswordChange,
    ProfileUpdate,
    RefreshRequest,
    SignInCodeRequest,
    TokenResponse,
    UserOut,
)
from masterplan.auth.tokens import user_for_token
from masterplan.deps import ClientAddress, CurrentUser, RuntimeDep, SessionDep
from masterplan.errors import TooManyRequests, Unauthorized

router = APIRouter(prefix="/auth", tags=["auth"])
REFRESH_COOKIE = "mp_refresh"
COOKIE_PATH = "/api/v1/auth"
_bearer = HTTPBearer(auto_error=False)
RefreshCookie = Annotated[str | None, Cookie(alias=REFRESH_COOKIE, include_in_schema=False)]


def _user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


def _respond(request: Request, response: Response, grant: sessions.TokenGrant) -> TokenResponse:
    """The grant as JSON, with the refresh token also in an HttpOnly cookie limited to /api/v1/auth."""
    response.set_cookie(
        REFRESH_COOKIE,
        grant.refresh_token,
        max_age=max(1, int((grant.refresh_expires_at - datetime.now(UTC)).total_seconds())),
        path=COOKIE_PATH,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )
    return TokenResponse(
        access_token=grant.access_token,
        expires_in=grant.access_expires_in,
        refresh_token=grant.refresh_token,
        refresh_expires_at=grant.refresh_expires_at,
        user=UserOut.of(grant.user),
    )


@router.post("/login", response_model=TokenResponse, responses=RATE_LIMITED)
def login(
    body: LoginRequest, request: Request, response: Response, runtime: RuntimeDep, client: ClientAddress
) -> TokenResponse:
    """Sign in with email and password; repeated failures lock the account for a while (429)."""
    # Its own transaction: a failed attempt must be counted and audited although the answer is 401.
    with runtime.transaction() as session:
        outcome = signin.sign_in_with_password(
            session,
            runtime.settings,
            email=body.email,
            password=body.password,
            client_address=client,
            user_agent=_user_agent(request),
        )
    if outcome.retry_after:
        raise TooManyRequests(
            f"too many failed sign-ins; try again in {outcome.retry_after} s",
            retry_after=outcome.retry_after,
            code="sign_in_locked",
        )
    if outcome.grant is None:
        raise Unauthorized("wrong email or password", code="invalid_credentials")
    return _respond(request, response, outcome.grant)


@router.post("/signin-code", response_model=TokenResponse)
def sign_in_with_code(
    body: SignInCodeRequest, request: Request, response: Response, runtime: RuntimeDep, client: ClientAddress
) -> TokenResponse:
    """Exchange a one-time code (from the URL `masterplan serve` prints) for a session; works once."""
    with runtime.transaction() as session:
        grant = signin.sign_in_with_code(
            session, runtime.settings, code=body.code, client_address=client, user_agent=_user_agent(request)
        )
    if grant is None:
        raise Unauthorized("this sign-in code is unknown, used or expired", code="invalid_signin_code")
    return _respond(request, response, grant)


@router.post("/refresh", response_model=TokenResponse)
def refresh(
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    client: ClientAddress,
    cookie: RefreshCookie = None,
    body: RefreshRequest | None = None,
) -> TokenResponse:
    """A new access token and a new refresh token (the old one stops working) for a live session."""
    token = (body.refresh_token if body else None) or cookie
    if not token:
        raise Unauthorized(
            "send the refresh token in the body or the mp_refresh cookie", code="no_refresh_token"
        )
    # Its own transaction: a replayed (stolen) refresh token revokes its session although the answer is 401.
    with runtime.transaction() as session:
        grant = sessions.refresh_session(session, runtime.settings, token, client_address=client)
    if grant is None:
        raise Unauthorized(
            "the refresh token is unknown, expired or revoked; sign in again", code="invalid_refresh_token"
        )
    return _respond(request, response, grant)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    session: SessionDep,
    client: ClientAddress,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: RefreshCookie = None,
    body: LogoutRequest | None = None,
) -> Response:
    """End the session of the bearer access token, or of the given refresh token (body or cookie).

    With an API token there is no session to end: 204, and the token stays valid until revoked."""
    session_id: uuid.UUID | None = None
    if credentials is not None and access_tokens.looks_like_jwt(credentials.credentials):
        claims = access_tokens.decode(session, credentials.credentials)
        session_id = claims.session_id if claims else None
    elif credentials is not None and user_for_token(session, credentials.credentials) is not None:
        # An API token has no session; it stays valid until revoked with DELETE /auth/tokens/{id}.
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    token = (body.refresh_token if body else None) or cookie
    if session_id is None and token:
        found = sessions.session_for_refresh_token(session, token)
        session_id = found.id if found else None
    if session_id is None:
        raise Unauthorized(
            "nothing to sign out: send the access token or the refresh token", code="no_session"
        )
    sessions.revoke_session(session, session_id)
    done = Response(status_code=status.HTTP_204_NO_CONTENT)
    done.delete_cookie(REFRESH_COOKIE, path=COOKIE_PATH)
    return done


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    """The signed-in user."""
    return UserOut.of(user)


@router.patch("/me", response_model=UserOut)
def update_me(body: ProfileUpdate, session: SessionDep, user: CurrentUser, client: ClientAddress) -> UserOut:
    """Change the signed-in user's display name."""
    users.update_user(session, user, user, display_name=body.display_name, client_address=client)
    return UserOut.of(user)


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT, responses=WRONG_PASSWORD)
def change_password(
    body: PasswordChange,
    session: SessionDep,
    user: CurrentUser,
    client: ClientAddress,
    session_id: CurrentSessionId,
) -> Response:
    """Set a new password (the current one is needed if there is one); other sessions are ended."""
    users.change_own_password(
        session,
        user,
        current=body.current_password,
        new=body.new_password,
        client_address=client,
        keep_session_id=session_id,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/tokens", response_model=list[ApiTokenOut])
def list_tokens(session: SessionDep, user: CurrentUser) -> list[ApiTokenOut]:
    """The caller's API tokens that are not revoked (never their secrets)."""
    return [ApiTokenOut.of(t) for t in api_tokens.list_tokens(session, user)]


@router.post("/tokens", status_code=status.HTTP_201_CREATED, response_model=ApiTokenCreated)
def create_token(
    body: ApiTokenCreate, session: SessionDep, user: CurrentUser, client: ClientAddress
) -> ApiTokenCreated:
    """A new personal API token for the CLI or scripts; its secret is shown only in this answer."""
    token, secret = api_tokens.create_token(
        session, user, body.name, expires_in_days=body.expires_in_days, client_address=client
    )
    return ApiTokenCreated(**ApiTokenOut.of(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(
    token_id: uuid.UUID, session: SessionDep, user: CurrentUser, client: ClientAddress
) -> Response:
    """Revoke one of the caller's API tokens; it stops working at once."""
    api_tokens.revoke_token(session, user, token_id, client_address=client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
