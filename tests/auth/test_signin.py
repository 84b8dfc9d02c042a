"""Sign-in: password, lockout, refresh rotation and replay, logout, expiry, forged tokens, one-time codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import select

from masterplan.auth import access_tokens, sessions
from masterplan.auth.tokens import user_for_token
from masterplan.models import AuthSession, HistoryEntry
from masterplan.runtime import Runtime
from tests.auth.helpers import PASSWORD, bearer, sign_in


def actions(runtime: Runtime, email: str) -> list[str]:
    with runtime.transaction() as session:
        rows = session.scalars(
            select(HistoryEntry).where(HistoryEntry.actor == email).order_by(HistoryEntry.created_at)
        ).all()
        return [r.action for r in rows]


def test_login_returns_tokens_that_identify_the_user(anon: TestClient, runtime: Runtime, ann: str) -> None:
    response = anon.post("/api/v1/auth/login", json={"email": "Ann@Example.com ", "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    assert body["user"]["email"] == ann and body["user"]["role"] == "member"
    cookie = response.headers["set-cookie"]
    assert "mp_refresh=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/api/v1/auth" in cookie
    me = anon.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.json()["email"] == ann
    assert actions(runtime, ann) == ["signed_in"]


def test_wrong_password_and_unknown_email_look_the_same(anon: TestClient, runtime: Runtime, ann: str) -> None:
    wrong = anon.post("/api/v1/auth/login", json={"email": ann, "password": "not the password"})
    unknown = anon.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    assert actions(runtime, ann) == ["sign_in_failed"]
    assert actions(runtime, "nobody@example.com") == ["sign_in_failed"]


def test_brute_force_locks_the_account_even_for_the_right_password(
    anon: TestClient, runtime: Runtime, ann: str, bob: str
) -> None:
    limit = runtime.settings.signin_max_failures
    for _ in range(limit):
        assert (
            anon.post("/api/v1/auth/login", json={"email": ann, "password": "guess-guess"}).status_code == 401
        )
    locked = anon.post("/api/v1/auth/login", json={"email": ann, "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "sign_in_locked"
    assert 0 < int(locked.headers["Retry-After"]) <= runtime.settings.signin_lockout_minutes * 60
    assert actions(runtime, ann)[-1] == "sign_in_locked"
    # Another account from the same address still signs in.
    assert sign_in(anon, bob)["user"]["email"] == bob


def test_refresh_rotates_and_a_replayed_token_ends_the_session(anon: TestClient, ann: str) -> None:
    first = sign_in(anon, ann)
    second = anon.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert anon.get("/api/v1/auth/me", headers=bearer(rotated["access_token"])).status_code == 200

    replay = anon.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    # The stolen-token replay revoked the whole session: the newest tokens stop working too.
    assert (
        anon.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}).status_code == 401
    )
    assert anon.get("/api/v1/auth/me", headers=bearer(rotated["access_token"])).status_code == 401


def test_refresh_with_the_cookie(anon: TestClient, ann: str) -> None:
    sign_in(anon, ann)
    response = anon.post("/api/v1/auth/refresh")
    assert response.status_code == 200, response.text
    assert response.json()["user"]["email"] == ann


def test_logout_ends_access_and_refresh_tokens(anon: TestClient, ann: str) -> None:
    grant = sign_in(anon, ann)
    assert anon.post("/api/v1/auth/logout", headers=bearer(grant["access_token"])).status_code == 204
    assert anon.get("/api/v1/auth/me", headers=bearer(grant["access_token"])).status_code == 401
    assert (
        anon.post("/api/v1/auth/refresh", json={"refresh_token": grant["refresh_token"]}).status_code == 401
    )
    assert anon.post("/api/v1/auth/logout").status_code == 401


def test_logout_with_only_the_refresh_token(anon: TestClient, ann: str) -> None:
    grant = sign_in(anon, ann)
    out = anon.post("/api/v1/auth/logout", json={"refresh_token": grant["refresh_token"]})
    assert out.status_code == 204
    assert anon.get("/api/v1/auth/me", headers=bearer(grant["access_token"])).status_code == 401


def test_expired_access_token_is_refused(anon: TestClient, runtime: Runtime, ann: str) -> None:
    grant = sign_in(anon, ann)
    with runtime.transaction() as session:
        auth_session = session.scalars(select(AuthSession)).one()
        expired = access_tokens.issue(
            session,
            user_id=auth_session.user_id,
            session_id=auth_session.id,
            lifetime=timedelta(minutes=15),
            now=datetime.now(UTC) - timedelta(hours=1),
        )
    assert anon.get("/api/v1/auth/me", headers=bearer(expired)).status_code == 401
    assert anon.get("/api/v1/auth/me", headers=bearer(grant["access_token"])).status_code == 200


def test_expired_session_refuses_refresh(anon: TestClient, runtime: Runtime, ann: str) -> None:
    grant = sign_in(anon, ann)
    with runtime.transaction() as session:
        session.scalars(select(AuthSession)).one().expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert (
        anon.post("/api/v1/auth/refresh", json={"refresh_token": grant["refresh_token"]}).status_code == 401
    )
    assert anon.get("/api/v1/auth/me", headers=bearer(grant["access_token"])).status_code == 401


def test_forged_and_tampered_tokens_are_refused(anon: TestClient, ann: str) -> None:
    grant = sign_in(anon, ann)
    claims = jwt.decode(grant["access_token"], options={"verify_signature": False})
    header = jwt.get_unverified_header(grant["access_token"])
    forged = jwt.encode(
        claims,
        "a guessed secret that is long enough for HS256",
        algorithm="HS256",
        headers={"kid": header["kid"]},
    )
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": header["kid"]})
    head, payload, signature = grant["access_token"].split(".")
    tampered = f"{head}.{payload[:-2]}AA.{signature}"
    for token in (forged, unsigned, tampered, "mp_not_a_token", "eyJ.eyJ.x", "x" * 5000):
        assert anon.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401, token[:40]


def test_access_tokens_resolve_in_read_sessions_for_sockets(
    anon: TestClient, runtime: Runtime, ann: str
) -> None:
    grant = sign_in(anon, ann)
    with runtime.reading() as session:
        user = user_for_token(session, grant["access_token"])
        assert user is not None and user.email == ann
        assert user_for_token(session, grant["refresh_token"]) is None


def test_one_time_sign_in_code_works_once(anon: TestClient, runtime: Runtime, ann: str) -> None:
    with runtime.transaction() as session:
        from masterplan.auth.users import by_email

        user = by_email(session, ann)
        assert user is not None
        code, _ = sessions.issue_sign_in_code(session, user, runtime.settings)
    first = anon.post("/api/v1/auth/signin-code", json={"code": code})
    assert first.status_code == 200, first.text
    assert first.json()["user"]["email"] == ann
    again = anon.post("/api/v1/auth/signin-code", json={"code": code})
    assert again.status_code == 401 and again.json()["error"]["code"] == "invalid_signin_code"


def test_expired_sign_in_code_is_refused(anon: TestClient, runtime: Runtime, ann: str) -> None:
    from masterplan.auth.users import by_email
    from masterplan.models import SignInCode

    with runtime.transaction() as session:
        user = by_email(session, ann)
        assert user is not None
        code, _ = sessions.issue_sign_in_code(session, user, runtime.settings)
        session.scalars(select(SignInCode)).one().expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert anon.post("/api/v1/auth/signin-code", json={"code": code}).status_code == 401


def test_password_change_needs_the_current_one_and_ends_other_sessions(anon: TestClient, ann: str) -> None:
    here = sign_in(anon, ann)
    elsewhere = sign_in(anon, ann)
    wrong = anon.post(
        "/api/v1/auth/me/password",
        json={"current_password": "not it at all", "new_password": "a brand new passphrase"},
        headers=bearer(here["access_token"]),
    )
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "wrong_password"
    weak = anon.post(
        "/api/v1/auth/me/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=bearer(here["access_token"]),
    )
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    ok = anon.post(
        "/api/v1/auth/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=bearer(here["access_token"]),
    )
    assert ok.status_code == 204
    assert anon.get("/api/v1/auth/me", headers=bearer(here["access_token"])).status_code == 200
    assert anon.get("/api/v1/auth/me", headers=bearer(elsewhere["access_token"])).status_code == 401
    assert sign_in(anon, ann, "a brand new passphrase")["user"]["email"] == ann


def test_login_body_is_validated(anon: TestClient) -> None:
    response = anon.post("/api/v1/auth/login", json={"email": "a@b"})
    assert response.status_code == 422


def test_first_start_link_signs_in_the_local_admin_once(anon: TestClient, runtime: Runtime) -> None:
    from urllib.parse import parse_qs, urlparse

    from masterplan.auth.bootstrap import bootstrap_sign_in

    link = bootstrap_sign_in(runtime, host="0.0.0.0", port=8123)
    assert link is not None and link.startswith("http://127.0.0.1:8123/?signin=mpc_")
    code = parse_qs(urlparse(link).query)["signin"][0]
    grant = anon.post("/api/v1/auth/signin-code", json={"code": code})
    assert grant.status_code == 200 and grant.json()["user"]["role"] == "admin"
    assert anon.post("/api/v1/auth/signin-code", json={"code": code}).status_code == 401
