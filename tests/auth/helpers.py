"""Helpers for auth tests: real users in the database, real sign-ins over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from masterplan.auth import users
from masterplan.models import User
from masterplan.runtime import Runtime

PASSWORD = "correct horse battery"


def add_user(
    runtime: Runtime, email: str, *, role: users.Role = "member", password: str | None = PASSWORD
) -> User:
    with runtime.transaction() as session:
        user = users.create_user(session, None, email=email, password=password, role=role)
        session.expunge(user)
    return user


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, headers={"Authorization": ""}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
