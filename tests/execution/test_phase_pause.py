"""Pause after a phase: the run pauses once when such a phase ends, and a resume runs the next phase."""

from __future__ import annotations

import time
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select

from masterplan.models import HistoryEntry
from masterplan.plans.schemas import PlanDocument
from masterplan.runtime import Runtime
from tests.execution.helpers import API, approved_plan, execute, tasks_by_number, wait_plan


def two_phase_plan() -> PlanDocument:
    """Phase 1 (tasks 1, 2) then phase 2 (tasks 3, 4), in one chain; both phases pause after."""
    first = [
        {"task_number": 1, "name": "Base", "target_files": ["app/base.py"]},
        {"task_number": 2, "name": "Service", "target_files": ["app/service.py"], "depends_on": [1]},
    ]
    second = [
        {"task_number": 3, "name": "API", "target_files": ["app/api.py"], "depends_on": [2]},
        {"task_number": 4, "name": "Docs", "target_files": ["docs/index.md"], "depends_on": [3]},
    ]
    return PlanDocument.model_validate(
        {
            "project_name": "Phased",
            "phases": [
                {
                    "phase_type": "setup",
                    "name": "Foundation",
                    "pause_after": True,
                    "milestones": [{"name": "M1", "tasks": first}],
                },
                {
                    "phase_type": "core",
                    "name": "Core",
                    "pause_after": True,
                    "milestones": [{"name": "M2", "tasks": second}],
                },
            ],
        }
    )


def test_plan_pauses_once_after_a_pause_after_phase_then_resume_finishes(
    client: TestClient, runtime: Runtime
) -> None:
    plan_id = approved_plan(client, two_phase_plan())
    execute(client, plan_id)
    plan = wait_plan(runtime, plan_id, {"paused", "completed", "failed"})
    assert plan.status == "paused" and plan.status_reason == "phase_pause"
    statuses = {n: t.status for n, t in tasks_by_number(runtime, plan_id).items()}
    assert statuses == {1: "completed", 2: "completed", 3: "pending", 4: "pending"}
    time.sleep(0.5)
    assert {n: t.status for n, t in tasks_by_number(runtime, plan_id).items()}[3] == "pending"

    resumed = client.post(f"{API}/{plan_id}/resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "in_progress"
    # The last phase also pauses after, but nothing follows it: the plan completes.
    plan = wait_plan(runtime, plan_id, {"completed", "failed"})
    assert plan.status == "completed"
    with runtime.reading() as session:
        pauses = session.scalars(
            select(HistoryEntry).where(
                HistoryEntry.masterplan_id == uuid.UUID(plan_id), HistoryEntry.action == "pause_after_phase"
            )
        ).all()
        assert [(p.actor, p.reason, (p.after or {}).get("phase")) for p in pauses] == [
            ("system", "phase_pause", 1)
        ]
