"""The access matrix over every route the app serves (found by walking the app, so new endpoints are
covered without editing this file): anonymous, expired and revoked tokens get 401; the owner is let
in; another member gets exactly what an unknown id gets (404); admins see everything; members get
403 from admin routes; collections never show another member's objects."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from masterplan.auth.dependencies import require_admin
from masterplan.deps import get_current_user
from masterplan.llm.schema_instance import minimal_instance
from masterplan.runtime import Runtime
from tests.conftest import TOKEN
from tests.security.world import (
    Member,
    add_member,
    build_world,
    expired_access_token,
    revoked_api_token,
    unknown_ids,
)

# Reachable without signing in, on purpose: probes and the ways to obtain a token.
PUBLIC = {
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/ready"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/signin-code"),
    ("POST", "/api/v1/auth/refresh"),
}
UI_FALLBACK = "/{path:path}"
# Reported to the owners of these endpoints; shown as warnings until fixed, then drop the entry.
KNOWN_GAPS = {
    "GET /api/v1/conversations/{conversation_id}: admin": "issue 3: admins cannot open others' conversations",
    "GET /api/v1/conversations/{conversation_id}/messages: admin": "issue 3: same",
    "POST /api/v1/conversations/{conversation_id}/messages: admin": "issue 3: same",
    "GET /api/v1/conversations/{conversation_id}/events: admin": "issue 3/5: same",
}
DENIED = {401, 403}
PARAM = re.compile(r"{(\w+)(?::\w+)?}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    params: tuple[str, ...]
    admin_only: bool
    needs_user: bool
    body: dict[str, Any] | None
    fuller_body: dict[str, Any] | None
    query: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, values: dict[str, str]) -> str:
        missing = [p for p in self.params if p not in values]
        assert not missing, (
            f"{self.label}: no value for path parameter(s) {missing}; add the object they name to "
            "build_world in tests/security/world.py so the access matrix can check who may reach it"
        )
        return PARAM.sub(lambda m: values[m.group(1)], self.path)


def first_choice(schema: Any, full: bool = False) -> Any:
    """The schema with every oneOf narrowed to its first option, tags included (and, when `full`,
    every property required: some bodies need one of several optional fields)."""
    if isinstance(schema, list):
        return [first_choice(item, full) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "oneOf" in schema:
        rest = {k: v for k, v in schema.items() if k not in ("oneOf", "discriminator")}
        return first_choice({**rest, **schema["oneOf"][0]}, full)
    narrowed = {key: first_choice(value, full) for key, value in schema.items()}
    if "exclusiveMinimum" in narrowed:
        narrowed["minimum"] = narrowed.pop("exclusiveMinimum") + 1
    properties = narrowed.get("properties", {})
    wanted = list(properties) if full else [name for name, prop in properties.items() if "const" in prop]
    if wanted:  # a union member's tag must be sent even when it has a default
        narrowed["required"] = sorted({*narrowed.get("required", []), *wanted})
    return narrowed


def example(schema: dict[str, Any], defs: dict[str, Any], *, full: bool = False) -> Any:
    return minimal_instance(first_choice({**schema, "$defs": defs}, full))


def _calls(dependant: Any) -> Iterator[Any]:
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def endpoints(app: FastAPI) -> list[Endpoint]:
    schema = app.openapi()
    defs = schema.get("components", {}).get("schemas", {})
    found = []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or context.path == UI_FALLBACK:
            continue
        calls = set(_calls(context.dependant))
        for method in sorted(context.methods or ()):
            operation = schema["paths"].get(context.path_format, {}).get(method.lower(), {})
            body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            body = example(body_schema["schema"], defs) if body_schema else None
            fuller = example(body_schema["schema"], defs, full=True) if body_schema else None
            query = {
                p["name"]: example(p["schema"], defs)
                for p in operation.get("parameters", [])
                if p["in"] == "query" and p.get("required")
            }
            found.append(
                Endpoint(
                    method=method,
                    path=context.path_format,
                    params=tuple(PARAM.findall(context.path_format)),
                    admin_only=require_admin in calls,
                    needs_user=get_current_user in calls,
                    body=body,
                    fuller_body=fuller,
                    query=query,
                )
            )
    return found


@pytest.fixture
def matrix(client: TestClient, runtime: Runtime) -> dict[str, Any]:
    owner = add_member(runtime, "owner@example.com")
    other = add_member(runtime, "other@example.com")
    return {
        "app": client.app,
        "owner": owner,
        "other": other,
        "admin": TOKEN,
        "expired": expired_access_token(runtime, owner.user),
        "revoked": revoked_api_token(runtime, owner.user),
    }


def call(app: Any, endpoint: Endpoint, values: dict[str, str], token: str | None) -> tuple[int, Any]:
    client = TestClient(app, raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kwargs: dict[str, Any] = {"headers": headers, "params": endpoint.query}
    if endpoint.body is not None:
        kwargs["json"] = endpoint.body
    response = client.request(endpoint.method, endpoint.url(values), **kwargs)
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return response.status_code, body


def error_code(body: Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def test_every_route_is_public_on_purpose_or_needs_a_user(client: TestClient) -> None:
    unprotected = [
        e.label for e in endpoints(client.app) if not e.needs_user and (e.method, e.path) not in PUBLIC
    ]
    # logout checks its bearer or refresh token itself.
    assert unprotected == ["POST /api/v1/auth/logout"]


def test_access_matrix(matrix: dict[str, Any], runtime: Runtime) -> None:
    app = matrix["app"]
    owner: Member = matrix["owner"]
    other: Member = matrix["other"]
    problems: list[str] = []
    checked = 0
    for endpoint in endpoints(app):
        if (endpoint.method, endpoint.path) in PUBLIC:
            continue
        checked += 1
        world = build_world(runtime, owner.user)
        for name in ("anonymous", "expired", "revoked"):
            status, body = call(app, endpoint, world.ids, matrix.get(name))
            if status != 401:
                problems.append(f"{endpoint.label}: {name} got {status}, expected 401")

        if endpoint.admin_only:
            for member in (owner, other):
                status, _ = call(app, endpoint, world.ids, member.token)
                if status != 403:
                    problems.append(
                        f"{endpoint.label}: member {member.user.email} got {status}, expected 403"
                    )
            status, body = call(app, endpoint, world.ids, matrix["admin"])
            if status in DENIED or status >= 500 or status == 404:
                problems.append(f"{endpoint.label}: admin got {status} {body}")
            continue

        scoped = any(p not in {"version", "path", "file_path"} for p in endpoint.params)
        # Bodies are checked before ownership: find one that passes validation.
        if (
            scoped
            and endpoint.body is not None
            and call(app, endpoint, unknown_ids(world), matrix["admin"])[0] == 422
        ):
            endpoint = replace(endpoint, body=endpoint.fuller_body)
        if scoped:
            unknown_status, unknown_body = call(app, endpoint, unknown_ids(world), other.token)
            status, body = call(app, endpoint, world.ids, other.token)
            if status != 404 or (status, error_code(body)) != (unknown_status, error_code(unknown_body)):
                problems.append(
                    f"{endpoint.label}: other member got {status} {error_code(body)}, "
                    f"an unknown id got {unknown_status} {error_code(unknown_body)}; both must be the same 404"
                )
        else:
            status, body = call(app, endpoint, world.ids, other.token)
            if status in DENIED or status >= 500:
                problems.append(f"{endpoint.label}: other member got {status} {body}")
            elif endpoint.method == "GET":
                leaked = [i for i in world.object_ids() if i in str(body)]
                if leaked:
                    problems.append(f"{endpoint.label}: other member sees the owner's ids {leaked}")

        for name, token in (("admin", matrix["admin"]), ("owner", owner.token)):
            world_for_role = build_world(runtime, owner.user) if endpoint.method != "GET" else world
            status, body = call(app, endpoint, world_for_role.ids, token)
            hidden = (
                status == 404
                and scoped
                and error_code(body) == error_code(call(app, endpoint, unknown_ids(world_for_role), token)[1])
            )
            if status in DENIED or status >= 500 or hidden:
                problems.append(f"{endpoint.label}: {name} got {status} {body}")
    assert checked >= 40
    known = [p for p in problems if p.split(" got ")[0] in KNOWN_GAPS]
    for problem in known:
        warnings.warn(f"known access gap: {problem}", stacklevel=1)
    unexpected = [p for p in problems if p not in known]
    assert not unexpected, "\n".join(unexpected)
