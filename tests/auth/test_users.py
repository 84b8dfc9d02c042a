"""User management: admins create, list, change and disable accounts; members may not."""

from __future__ import annotations

from fastapi.testclient import TestClient

from masterplan.runtime import Runtime
from tests.auth.helpers import PASSWORD, bearer, sign_in


def test_admin_creates_a_user_who_signs_in(client: TestClient, anon: TestClient) -> None:
    created = client.post(
        "/api/v1/users",
        json={"email": "Carol@Example.com", "display_name": "Carol", "password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["email"] == "carol@example.com" and user["role"] == "member" and user["has_password"]
    assert sign_in(anon, "carol@example.com")["user"]["id"] == user["id"]
    listed = client.get("/api/v1/users").json()
    assert "carol@example.com" in [u["email"] for u in listed["items"]]
    assert client.get(f"/api/v1/users/{user['id']}").json()["display_name"] == "Carol"


def test_bad_accounts_are_refused_clearly(client: TestClient, ann: str) -> None:
    taken = client.post("/api/v1/users", json={"email": ann, "password": PASSWORD})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "user_exists"
    weak = client.post("/api/v1/users", json={"email": "weak@example.com", "password": "12345"})
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    bad = client.post("/api/v1/users", json={"email": "no at sign", "password": PASSWORD})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_email"
    role = client.post("/api/v1/users", json={"email": "r@example.com", "role": "owner"})
    assert role.status_code == 422


def test_members_may_not_manage_users(anon: TestClient, ann: str, bob: str) -> None:
    token = sign_in(anon, ann)["access_token"]
    assert anon.get("/api/v1/users", headers=bearer(token)).status_code == 403
    answer = anon.post("/api/v1/users", json={"email": "x@example.com"}, headers=bearer(token))
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "admin_required"
    assert anon.get("/api/v1/audit", headers=bearer(token)).status_code == 403


def test_disabling_a_user_ends_sessions_and_tokens(client: TestClient, anon: TestClient, ann: str) -> None:
    grant = sign_in(anon, ann)
    api_token = anon.post("/api/v1/auth/tokens", json={"name": "cli"}, headers=bearer(grant["access_token"]))
    secret = api_token.json()["token"]
    user_id = grant["user"]["id"]
    disabled = client.patch(f"/api/v1/users/{user_id}", json={"is_active": False})
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    assert anon.get("/api/v1/auth/me", headers=bearer(grant["access_token"])).status_code == 401
    assert anon.get("/api/v1/auth/me", headers=bearer(secret)).status_code == 401
    assert (
        anon.post("/api/v1/auth/refresh", json={"refresh_token": grant["refresh_token"]}).status_code == 401
    )
    assert anon.post("/api/v1/auth/login", json={"email": ann, "password": PASSWORD}).status_code == 401
    client.patch(f"/api/v1/users/{user_id}", json={"is_active": True})
    assert sign_in(anon, ann)["user"]["is_active"] is True


def test_promoted_member_becomes_admin_and_the_last_admin_stays(
    client: TestClient, anon: TestClient, local_user_id: str, ann: str
) -> None:
    ann_id = sign_in(anon, ann)["user"]["id"]
    promoted = client.patch(f"/api/v1/users/{ann_id}", json={"role": "admin"})
    assert promoted.json()["role"] == "admin"
    token = sign_in(anon, ann)["access_token"]
    assert anon.get("/api/v1/users", headers=bearer(token)).status_code == 200
    # Two admins: one may step down; then the other is the last and may not.
    assert client.patch(f"/api/v1/users/{local_user_id}", json={"role": "member"}).status_code == 200
    last = anon.patch(f"/api/v1/users/{ann_id}", json={"is_active": False}, headers=bearer(token))
    assert last.status_code == 409 and last.json()["error"]["code"] == "last_admin"


def test_invite_with_a_one_time_link(client: TestClient, anon: TestClient) -> None:
    user = client.post("/api/v1/users", json={"email": "dave@example.com"}).json()
    assert user["has_password"] is False
    link = client.post(f"/api/v1/users/{user['id']}/signin-code")
    assert link.status_code == 201
    body = link.json()
    assert body["path"] == f"/?signin={body['code']}"
    grant = anon.post("/api/v1/auth/signin-code", json={"code": body["code"]}).json()
    set_password = anon.post(
        "/api/v1/auth/me/password", json={"new_password": PASSWORD}, headers=bearer(grant["access_token"])
    )
    assert set_password.status_code == 204
    assert sign_in(anon, "dave@example.com")["user"]["has_password"] is True


def test_profile_update(anon: TestClient, runtime: Runtime, ann: str) -> None:
    token = sign_in(anon, ann)["access_token"]
    changed = anon.patch("/api/v1/auth/me", json={"display_name": "Ann A."}, headers=bearer(token))
    assert changed.status_code == 200 and changed.json()["display_name"] == "Ann A."
