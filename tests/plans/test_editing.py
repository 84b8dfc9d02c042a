"""Editing drafts through the API: operations, versions, diffs, refusals that keep the previous version."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.plans.test_api import create, small_plan


def edit(client: TestClient, plan_id: str, *operations: dict[str, Any], summary: str = "") -> Any:
    return client.post(
        f"/api/v1/masterplans/{plan_id}/edits", json={"operations": list(operations), "summary": summary}
    )


def tasks_of(detail: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {t["task_number"]: t for p in detail["phases"] for m in p["milestones"] for t in m["tasks"]}


def test_edit_round_trip_creates_versions_and_keeps_task_ids(client: TestClient) -> None:
    plan = create(client)
    before = tasks_of(client.get(f"/api/v1/masterplans/{plan['id']}").json())
    response = edit(
        client,
        plan["id"],
        {"op": "update_task", "task": 3, "name": "Renamed", "complexity": "critical"},
        {
            "op": "add_task",
            "milestone": 1,
            "name": "New task",
            "target_files": ["src/new.py"],
            "depends_on": [1],
        },
        {"op": "add_subtask", "task": 3, "name": "extra step"},
        {"op": "update_plan", "description": "better"},
        summary="first edit",
    )
    assert response.status_code == 200, response.text
    detail = response.json()
    after = tasks_of(detail)
    assert detail["version"] == 2 and detail["total_tasks"] == 13
    assert after[3]["id"] == before[3]["id"]
    assert after[3]["name"] == "Renamed" and after[3]["complexity"] == "critical"
    assert after[3]["subtasks"][-1]["name"] == "extra step"
    assert after[13]["target_files"] == ["src/new.py"] and after[13]["depends_on"] == [1]

    versions = client.get(f"/api/v1/masterplans/{plan['id']}/versions").json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["change_summary"] == "first edit"
    snapshot = client.get(f"/api/v1/masterplans/{plan['id']}/versions/1").json()["snapshot"]
    assert snapshot["description"] == small_plan()["description"]

    diff = client.get(f"/api/v1/masterplans/{plan['id']}/diff", params={"from": 1, "to": 2}).json()
    assert diff["tasks_added"] == [13] and diff["tasks_removed"] == []
    changed = {c["task_number"]: c["fields"] for c in diff["tasks_changed"]}
    assert changed[3]["name"] == {"before": before[3]["name"], "after": "Renamed"}
    assert set(changed[3]) == {"name", "complexity", "subtasks"}
    assert diff["plan_fields"]["description"]["after"] == "better"


def test_refused_edit_keeps_the_previous_version(client: TestClient) -> None:
    plan = create(client)
    detail = client.get(f"/api/v1/masterplans/{plan['id']}").json()
    tasks = tasks_of(detail)
    last = max(tasks)
    cycle = edit(
        client,
        plan["id"],
        {"op": "update_task", "task": 1, "depends_on": [last]},
        {"op": "update_task", "task": last, "depends_on": [1]},
    )
    assert cycle.status_code == 422
    assert "dependency cycle" in cycle.json()["error"]["message"]
    first_file = tasks[1]["target_files"][0]
    shared = edit(
        client, plan["id"], {"op": "add_task", "milestone": 1, "name": "dup", "target_files": [first_file]}
    )
    assert shared.status_code == 422 and "no dependency orders them" in shared.json()["error"]["message"]
    unknown = edit(client, plan["id"], {"op": "delete_task", "task": 999})
    assert unknown.status_code == 422 and "task 999 does not exist" in unknown.json()["error"]["message"]
    again = client.get(f"/api/v1/masterplans/{plan['id']}").json()
    assert again["version"] == 1 and tasks_of(again) == tasks
    assert len(client.get(f"/api/v1/masterplans/{plan['id']}/versions").json()) == 1


def test_reorder_move_and_delete(client: TestClient) -> None:
    plan = create(client)
    detail = client.get(f"/api/v1/masterplans/{plan['id']}").json()
    leaf = max(tasks_of(detail))  # nothing depends on the last task
    last_milestone = detail["total_milestones"]
    response = edit(
        client,
        plan["id"],
        {"op": "add_phase", "phase_type": "polish", "name": "Extra", "position": 1},
        {"op": "move_phase", "phase": 1, "position": 4},
        {"op": "add_milestone", "phase": 4, "name": "Late"},
        {"op": "add_milestone", "phase": 4, "name": "Temporary"},
        {"op": "move_task", "task": leaf, "milestone": last_milestone + 1},
        {"op": "delete_milestone", "milestone": last_milestone + 2},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert [p["name"] for p in result["phases"]][-1] == "Extra"
    late = result["phases"][-1]["milestones"][0]
    assert late["name"] == "Late" and [t["task_number"] for t in late["tasks"]] == [leaf]
    assert [m["number"] for p in result["phases"] for m in p["milestones"]] == list(
        range(1, result["total_milestones"] + 1)
    )


def test_deleting_a_task_others_depend_on_is_refused(client: TestClient) -> None:
    plan = create(client)
    tasks = tasks_of(client.get(f"/api/v1/masterplans/{plan['id']}").json())
    needed = next(d for t in tasks.values() for d in t["depends_on"])
    response = edit(client, plan["id"], {"op": "delete_task", "task": needed})
    assert response.status_code == 422 and f"unknown task {needed}" in response.json()["error"]["message"]


def test_editing_anything_but_a_draft_is_409(client: TestClient) -> None:
    plan = create(client)
    client.post(f"/api/v1/masterplans/{plan['id']}/approve")
    response = edit(client, plan["id"], {"op": "update_plan", "description": "x"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "plan_not_editable"


def test_export_json_reimports_and_markdown_lists_tasks(client: TestClient) -> None:
    plan = create(client)
    exported = client.get(f"/api/v1/masterplans/{plan['id']}/export").json()
    again = client.post("/api/v1/masterplans", json=exported)
    assert again.status_code == 201 and again.json()["total_tasks"] == plan["total_tasks"]
    markdown = client.get(f"/api/v1/masterplans/{plan['id']}/export", params={"format": "markdown"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith("# Todo API") and "- [ ] **#1 " in markdown.text
