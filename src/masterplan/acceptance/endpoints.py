"""Acceptance test endpoints: list, replace, derive, runs, Gate S status and the audited override."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from masterplan.acceptance import service
from masterplan.acceptance.derive import derive_acceptance_tests
from masterplan.acceptance.schemas import (
    AcceptanceRunOut,
    AcceptanceTestList,
    AcceptanceTestOut,
    AcceptanceTestsReplace,
    DeriveRequest,
    DeriveResult,
    GateOverrideRequest,
    GateStatus,
)
from masterplan.config import Settings
from masterplan.deps import ClientAddress, CurrentUser, RuntimeDep, SessionDep
from masterplan.errors import NotFound
from masterplan.llm.errors import model_errors
from masterplan.models import AcceptanceTest
from masterplan.plans import repository

router = APIRouter(prefix="/masterplans/{plan_id}", tags=["acceptance"])


def listing(session: Session, plan_id: uuid.UUID, settings: Settings) -> AcceptanceTestList:
    runs = service.last_runs(session, plan_id)
    items = []
    for test in service.list_tests(session, plan_id):
        item = AcceptanceTestOut.model_validate(test)
        run = runs.get(test.id)
        item.last_run = AcceptanceRunOut.model_validate(run) if run else None
        items.append(item)
    return AcceptanceTestList(items=items, gate=service.gate_status(session, plan_id, settings))


@router.get("/acceptance-tests", response_model=AcceptanceTestList)
def list_acceptance_tests(
    plan_id: uuid.UUID, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> AcceptanceTestList:
    """The plan's acceptance tests with their last run, and Gate S over the tests run so far."""
    repository.get_plan(session, user, plan_id)
    return listing(session, plan_id, runtime.settings)


@router.put("/acceptance-tests", response_model=AcceptanceTestList)
def replace_acceptance_tests(
    plan_id: uuid.UUID,
    body: AcceptanceTestsReplace,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    client: ClientAddress,
) -> AcceptanceTestList:
    """Replace the plan's tests: listed ids are kept (changed ones run again), new ones created, others
    deleted; 422 lists every rule broken."""
    service.replace_tests(session, user, plan_id, body.tests, client)
    return listing(session, plan_id, runtime.settings)


@router.post("/acceptance-tests/derive", response_model=DeriveResult)
def derive_tests(
    plan_id: uuid.UUID,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    body: DeriveRequest | None = None,
) -> DeriveResult:
    """Ask the model to derive acceptance tests from the discovery and the plan."""
    repository.get_plan(session, user, plan_id)
    session.commit()  # the derivation writes in its own transactions
    with model_errors():
        return derive_acceptance_tests(runtime, plan_id, replace=(body or DeriveRequest()).replace)


@router.get("/acceptance-tests/{test_id}/runs", response_model=list[AcceptanceRunOut])
def list_runs(
    plan_id: uuid.UUID,
    test_id: uuid.UUID,
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[AcceptanceRunOut]:
    """A test's runs, newest first, with their captured output."""
    repository.get_plan(session, user, plan_id)
    test = session.get(AcceptanceTest, test_id)
    if test is None or test.masterplan_id != plan_id:
        raise NotFound(f"acceptance test {test_id} not found in this plan", code="acceptance_test_not_found")
    return [AcceptanceRunOut.model_validate(r) for r in service.runs_of(session, test_id, limit)]


@router.get("/gate", response_model=GateStatus)
def get_gate(plan_id: uuid.UUID, session: SessionDep, runtime: RuntimeDep, user: CurrentUser) -> GateStatus:
    """Gate S now: must and should pass rates among the tests run so far, and the failing tests."""
    repository.get_plan(session, user, plan_id)
    return service.gate_status(session, plan_id, runtime.settings)


@router.post("/gate/override", response_model=GateStatus)
def override_gate(
    plan_id: uuid.UUID,
    body: GateOverrideRequest,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    client: ClientAddress,
) -> GateStatus:
    """Waive the failing acceptance tests so the gate passes (audited); resume the plan afterwards.
    409 when no test is failing."""
    return service.override_gate(session, user, plan_id, body.reason, runtime.settings, client)
