"""Imports from Task Master and Spec Kit files written for these tests."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

TASKMASTER = {
    "master": {
        "tasks": [
            {
                "id": 1,
                "title": "Set up project",
                "description": "Create pyproject.toml",
                "details": "Add `pyproject.toml` and src/app/__init__.py",
                "priority": "high",
                "dependencies": [],
                "status": "pending",
                "subtasks": [],
            },
            {
                "id": 2,
                "title": "User model",
                "description": "Model users",
                "details": "Write src/app/models.py",
                "priority": "medium",
                "dependencies": [1],
                "status": "pending",
                "subtasks": [
                    {"id": 1, "title": "Fields", "description": "id, email"},
                    {"id": 2, "title": "Validation", "description": "emails"},
                ],
            },
            {
                "id": 3,
                "title": "Docs",
                "description": "Explain usage",
                "details": "No file named here",
                "priority": "low",
                "dependencies": [2],
                "status": "pending",
            },
        ]
    }
}

SPECKIT = """# Tasks: Photo albums

## Phase 3.1: Setup
- [ ] T001 Create project structure in backend/pyproject.toml
- [ ] T002 [P] Configure linting in backend/ruff.toml

## Phase 3.2: Tests First (TDD)
- [ ] T003 [P] Contract test POST /albums in backend/tests/test_albums_post.py
- [ ] T004 [P] Contract test GET /albums in backend/tests/test_albums_get.py

## Phase 3.3: Core Implementation
- [ ] T005 Album model in backend/src/models/album.py
- [ ] T006 Album service in backend/src/services/albums.py

## Phase 3.5: Polish
- [ ] T007 [P] Update docs in docs/api.md

## Dependencies
- T003-T004 before T005
- T005 blocks T006
"""


def test_taskmaster_import_fills_files_it_can_and_blocks_approval_until_all_are_set(
    client: TestClient,
) -> None:
    response = client.post(
        "/api/v1/masterplans/import",
        json={"source": "taskmaster", "content": json.dumps(TASKMASTER), "project_name": "TM"},
    )
    assert response.status_code == 201, response.text
    plan = response.json()
    detail = client.get(f"/api/v1/masterplans/{plan['id']}").json()
    tasks = {t["task_number"]: t for p in detail["phases"] for m in p["milestones"] for t in m["tasks"]}
    assert tasks[1]["target_files"] == ["pyproject.toml", "src/app/__init__.py"]
    assert tasks[1]["complexity"] == "high"
    assert tasks[2]["depends_on"] == [1] and [s["name"] for s in tasks[2]["subtasks"]] == [
        "Fields",
        "Validation",
    ]
    assert tasks[3]["target_files"] == []

    refused = client.post(f"/api/v1/masterplans/{plan['id']}/approve")
    assert refused.status_code == 422 and "[3]" in refused.json()["error"]["message"]
    filled = client.post(
        f"/api/v1/masterplans/{plan['id']}/edits",
        json={"operations": [{"op": "update_task", "task": 3, "target_files": ["docs/usage.md"]}]},
    )
    assert filled.status_code == 200
    assert client.post(f"/api/v1/masterplans/{plan['id']}/approve").status_code == 200


def test_speckit_import_keeps_phases_parallel_markers_and_dependencies(client: TestClient) -> None:
    response = client.post("/api/v1/masterplans/import", json={"source": "speckit", "content": SPECKIT})
    assert response.status_code == 201, response.text
    detail = client.get(f"/api/v1/masterplans/{response.json()['id']}").json()
    assert detail["project_name"] == "Photo albums"
    assert [p["phase_type"] for p in detail["phases"]] == ["setup", "core", "polish"]
    tasks = {t["task_number"]: t for p in detail["phases"] for m in p["milestones"] for t in m["tasks"]}
    assert tasks[1]["target_files"] == ["backend/pyproject.toml"]
    assert tasks[2]["depends_on"] == [1]  # [P] runs after the last sequential task
    assert tasks[3]["depends_on"] == [1] and tasks[4]["depends_on"] == [1]
    assert tasks[5]["depends_on"] == [2, 3, 4]  # joins the parallel tasks since T001
    assert tasks[6]["depends_on"] == [5]
    assert tasks[7]["target_files"] == ["docs/api.md"]


def test_malformed_imports_are_clear_422(client: TestClient) -> None:
    bad_json = client.post("/api/v1/masterplans/import", json={"source": "taskmaster", "content": "{nope"})
    assert bad_json.status_code == 422 and "not valid JSON" in bad_json.json()["error"]["message"]
    empty = client.post("/api/v1/masterplans/import", json={"source": "speckit", "content": "# nothing here"})
    assert empty.status_code == 422 and "no tasks found" in empty.json()["error"]["message"]
