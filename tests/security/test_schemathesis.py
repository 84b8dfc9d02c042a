"""Schemathesis against our OpenAPI schema, over a real server, authenticated as the admin: a bounded
number of generated requests per operation; no 500s and no response that breaks the schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from masterplan.cli.server import background_server
from masterplan.config import Settings
from masterplan.runtime import Runtime
from tests.conftest import TOKEN
from tests.security.world import build_world

EXAMPLES = 6
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PARAM = re.compile(r"{(\w+)}")


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    with background_server(settings) as base:
        yield base


def run_operation(operation: Any, base: str, ids: dict[str, str]) -> list[str]:
    """Generated cases for one operation, with real ids for half of them; the failures found."""
    failures: list[str] = []
    names = PARAM.findall(operation.path)
    known = {name: ids[name] for name in names if name in ids}
    strategies = [operation.as_strategy()]
    if known:
        strategies.append(operation.as_strategy(path_parameters=known))

    @given(case=st.one_of(strategies))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call(base_url=base, headers=AUTH)
        try:
            case.validate_response(response, checks=CHECKS, headers=AUTH)
        except FailureGroup as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")

    check()
    return failures


@pytest.mark.slow
def test_schemathesis_finds_no_server_errors_nor_schema_breaks(
    server: str, runtime: Runtime, settings: Settings
) -> None:
    from masterplan.auth.tokens import ensure_local_user

    with runtime.transaction() as session:
        admin = ensure_local_user(session, settings)
        session.expunge(admin)
    world = build_world(runtime, admin)
    import httpx

    schema = schemathesis.openapi.from_dict(httpx.get(f"{server}/api/v1/openapi.json").json())
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        failures.extend(run_operation(operation, server, world.ids))
    assert operations >= 40
    assert not failures, "\n\n".join(failures)
