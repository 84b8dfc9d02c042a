"""Draft editing, versions and diffs, imports from other tools, and export."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from masterplan.deps import ClientAddress, CurrentUser, RuntimeDep, SessionDep
from masterplan.plans import repository, service, versions
from masterplan.plans.edit_service import edit_plan
from masterplan.plans.editing import EditRequest
from masterplan.plans.endpoints import detail_of
from masterplan.plans.export import to_markdown
from masterplan.plans.importers import ImportSource, import_document
from masterplan.plans.schemas import MasterplanDetail, MasterplanSummary, PlanDocument

router = APIRouter(prefix="/masterplans", tags=["plan editing"])
# Versions are INTEGER columns: a larger number is refused with 422 instead of overflowing in the database.
MAX_INT32 = 2_147_483_647


class ImportRequest(BaseModel):
    source: ImportSource = Field(description="taskmaster (tasks.json) or speckit (tasks.md)")
    content: str = Field(min_length=1, max_length=2_000_000, description="The file's text.")
    project_name: str | None = Field(None, max_length=200)


@router.post("/{plan_id}/edits", response_model=MasterplanDetail)
def apply_edits(
    plan_id: uuid.UUID,
    request: EditRequest,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    client: ClientAddress,
) -> MasterplanDetail:
    """Apply edit operations to a draft as one validated change and a new version; 409 if not a draft."""
    edit_plan(
        session, user, plan_id, list(request.operations), summary=request.summary, client_address=client
    )
    return detail_of(session, runtime, user, plan_id)


@router.get("/{plan_id}/versions", response_model=list[versions.VersionSummary])
def list_versions(
    plan_id: uuid.UUID, session: SessionDep, user: CurrentUser
) -> list[versions.VersionSummary]:
    """Every version of the plan, oldest first."""
    repository.get_plan(session, user, plan_id)
    return [versions.VersionSummary.model_validate(v) for v in versions.list_versions(session, plan_id)]


@router.get("/{plan_id}/versions/{version}", response_model=versions.VersionOut)
def get_version(
    plan_id: uuid.UUID,
    version: Annotated[int, Path(ge=1, le=MAX_INT32)],
    session: SessionDep,
    user: CurrentUser,
) -> versions.VersionOut:
    """One version's snapshot of the plan document."""
    repository.get_plan(session, user, plan_id)
    return versions.VersionOut.model_validate(versions.get_version(session, plan_id, version))


@router.get("/{plan_id}/diff", response_model=versions.VersionDiff)
def diff(
    plan_id: uuid.UUID,
    session: SessionDep,
    user: CurrentUser,
    from_version: Annotated[int, Query(alias="from", ge=1, le=MAX_INT32)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=MAX_INT32)],
) -> versions.VersionDiff:
    """What changed between two versions: plan fields, tasks added, removed and changed field by field."""
    repository.get_plan(session, user, plan_id)
    before = versions.get_version(session, plan_id, from_version)
    after = versions.get_version(session, plan_id, to_version)
    return versions.diff_snapshots(before.snapshot, after.snapshot, from_version, to_version)


@router.get(
    "/{plan_id}/export", response_model=PlanDocument, responses={200: {"content": {"text/markdown": {}}}}
)
def export(
    plan_id: uuid.UUID,
    session: SessionDep,
    user: CurrentUser,
    format: Annotated[Literal["json", "markdown"], Query()] = "json",
) -> PlanDocument | PlainTextResponse:
    """The plan as a JSON document (importable again) or as Markdown."""
    plan = repository.get_plan(session, user, plan_id, hierarchy=True)
    document = service.document_of(plan)
    if format == "markdown":
        return PlainTextResponse(to_markdown(document, plan.status), media_type="text/markdown")
    return document


@router.post("/import", status_code=status.HTTP_201_CREATED, response_model=MasterplanSummary)
def import_from_tool(
    request: ImportRequest, session: SessionDep, runtime: RuntimeDep, user: CurrentUser, client: ClientAddress
) -> MasterplanSummary:
    """Import a Task Master tasks.json or Spec Kit tasks.md as a draft; tasks without files must be filled in."""
    document = import_document(request.source, request.content, request.project_name)
    plan = service.create_plan(
        session,
        user,
        document,
        max_retries=runtime.settings.task_max_retries,
        soft_cost_limit_usd=runtime.settings.soft_cost_limit_usd,
        hard_cost_limit_usd=runtime.settings.hard_cost_limit_usd,
        client_address=client,
        action=f"imported_{request.source}",
        require_target_files=False,
    )
    return MasterplanSummary.model_validate(plan)
