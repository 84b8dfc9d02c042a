"""Personal API tokens, the local token and MASTERPLAN_ADMIN_TOKEN."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from masterplan.app import create_app
from masterplan.models import ApiToken
from masterplan.runtime import Runtime
from tests.auth.helpers import bearer, sign_in


def test_create_use_list_and_revoke(anon: TestClient, ann: str) -> None:
    access = sign_in(anon, ann)["access_token"]
    created = anon.post("/api/v1/auth/tokens", json={"name": "laptop CLI"}, headers=bearer(access))
    assert created.status_code == 201, created.text
    token = created.json()
    assert token["token"].startswith("mp_") and token["expires_at"] is None
    assert anon.get("/api/v1/auth/me", headers=bearer(token["token"])).json()["email"] == ann

    listed = anon.get("/api/v1/auth/tokens", headers=bearer(access)).json()
    assert [t["name"] for t in listed] == ["laptop CLI"]
    assert "token" not in listed[0]

    assert anon.delete(f"/api/v1/auth/tokens/{token['id']}", headers=bearer(access)).status_code == 204
    assert anon.get("/api/v1/auth/me", headers=bearer(token["token"])).status_code == 401
    assert anon.get("/api/v1/auth/tokens", headers=bearer(access)).json() == []


def test_another_members_token_is_not_found(anon: TestClient, ann: str, bob: str) -> None:
    ann_access = sign_in(anon, ann)["access_token"]
    token = anon.post("/api/v1/auth/tokens", json={"name": "mine"}, headers=bearer(ann_access)).json()
    bob_access = sign_in(anon, bob)["access_token"]
    foreign = anon.delete(f"/api/v1/auth/tokens/{token['id']}", headers=bearer(bob_access))
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "token_not_found"
    assert anon.get("/api/v1/auth/me", headers=bearer(token["token"])).status_code == 200


def test_expired_api_token_is_refused(anon: TestClient, runtime: Runtime, ann: str) -> None:
    access = sign_in(anon, ann)["access_token"]
    token = anon.post(
        "/api/v1/auth/tokens", json={"name": "ci", "expires_in_days": 1}, headers=bearer(access)
    ).json()
    assert anon.get("/api/v1/auth/me", headers=bearer(token["token"])).status_code == 200
    with runtime.transaction() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.name == "ci")).one()
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert anon.get("/api/v1/auth/me", headers=bearer(token["token"])).status_code == 401


def test_local_token_still_works(client: TestClient) -> None:
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["role"] == "admin"


def test_admin_token_from_settings_and_its_replacement(runtime: Runtime) -> None:
    first = runtime.settings.model_copy(update={"admin_token": SecretStr("mp_automation_one_0123456789")})
    runtime.settings = first
    with TestClient(create_app(runtime=runtime)) as app_client:
        users = app_client.get("/api/v1/users", headers=bearer("mp_automation_one_0123456789"))
        assert users.status_code == 200
        assert (
            app_client.get("/api/v1/auth/me", headers=bearer("mp_automation_one_0123456789")).json()["email"]
            == "automation@masterplan"
        )
    runtime.settings = first.model_copy(update={"admin_token": SecretStr("mp_automation_two_0123456789")})
    with TestClient(create_app(runtime=runtime)) as app_client:
        assert (
            app_client.get("/api/v1/users", headers=bearer("mp_automation_one_0123456789")).status_code == 401
        )
        assert (
            app_client.get("/api/v1/users", headers=bearer("mp_automation_two_0123456789")).status_code == 200
        )
