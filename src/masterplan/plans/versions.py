"""Plan versions: snapshots and field-by-field diffs between two of them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.errors import NotFound
from masterplan.models import MasterplanVersion

PLAN_FIELDS = ("project_name", "description", "tech_stack", "architecture_style")
TASK_FIELDS = (
    "name",
    "description",
    "complexity",
    "task_type",
    "depends_on",
    "target_files",
    "subtasks",
    "milestone",
)


class VersionSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    change_summary: str
    author_id: uuid.UUID | None
    created_at: datetime


class VersionOut(VersionSummary):
    snapshot: dict[str, Any]


class FieldChange(BaseModel):
    before: Any
    after: Any


class TaskChange(BaseModel):
    task_number: int
    name: str
    fields: dict[str, FieldChange]


class VersionDiff(BaseModel):
    from_version: int
    to_version: int
    plan_fields: dict[str, FieldChange]
    tasks_added: list[int]
    tasks_removed: list[int]
    tasks_changed: list[TaskChange]
    phases_before: list[str]
    phases_after: list[str]


def list_versions(session: Session, plan_id: uuid.UUID) -> Sequence[MasterplanVersion]:
    return session.scalars(
        select(MasterplanVersion)
        .where(MasterplanVersion.masterplan_id == plan_id)
        .order_by(MasterplanVersion.version)
    ).all()


def get_version(session: Session, plan_id: uuid.UUID, version: int) -> MasterplanVersion:
    row = session.scalars(
        select(MasterplanVersion).where(
            MasterplanVersion.masterplan_id == plan_id, MasterplanVersion.version == version
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"version {version} of masterplan {plan_id} not found", code="version_not_found")
    return row


def _tasks_of(snapshot: dict[str, Any]) -> dict[int, dict[str, Any]]:
    tasks: dict[int, dict[str, Any]] = {}
    for phase in snapshot.get("phases", []):
        for milestone in phase.get("milestones", []):
            for task in milestone.get("tasks", []):
                tasks[task["task_number"]] = {
                    **task,
                    "milestone": milestone.get("name"),
                    "subtasks": [s.get("name") for s in task.get("subtasks", [])],
                }
    return tasks


def diff_snapshots(
    before: dict[str, Any], after: dict[str, Any], from_version: int, to_version: int
) -> VersionDiff:
    """What changed between two snapshots: plan fields, tasks added, removed and changed field by field."""
    old, new = _tasks_of(before), _tasks_of(after)
    changed: list[TaskChange] = []
    for number in sorted(set(old) & set(new)):
        fields = {
            key: FieldChange(before=old[number].get(key), after=new[number].get(key))
            for key in TASK_FIELDS
            if old[number].get(key) != new[number].get(key)
        }
        if fields:
            changed.append(TaskChange(task_number=number, name=new[number]["name"], fields=fields))
    return VersionDiff(
        from_version=from_version,
        to_version=to_version,
        plan_fields={
            key: FieldChange(before=before.get(key), after=after.get(key))
            for key in PLAN_FIELDS
            if before.get(key) != after.get(key)
        },
        tasks_added=sorted(set(new) - set(old)),
        tasks_removed=sorted(set(old) - set(new)),
        tasks_changed=changed,
        phases_before=[p.get("name", "") for p in before.get("phases", [])],
        phases_after=[p.get("name", "") for p in after.get("phases", [])],
    )
