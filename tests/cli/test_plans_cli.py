"""The plans CLI against a real database: import, list, show, approve, reject, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from masterplan.cli import app
from masterplan.plans.synthetic import synthetic_plan

runner = CliRunner()


def env(tmp_path: Path, db_url: str) -> dict[str, str]:
    return {
        "MASTERPLAN_DATA_DIR": str(tmp_path / "data"),
        "MASTERPLAN_DATABASE_URL": db_url,
        "COLUMNS": "200",
    }


def import_plan(tmp_path: Path, db_url: str, name: str = "CLI project") -> str:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(synthetic_plan(6, seed=1, project_name=name).model_dump(mode="json")))
    result = runner.invoke(app, ["plans", "import", str(path)], env=env(tmp_path, db_url))
    assert result.exit_code == 0, result.output
    match = re.search(r"id ([0-9a-f-]{36})", result.output)
    assert match, result.output
    return match.group(1)


def test_import_show_approve_list(tmp_path: Path, db_url: str) -> None:
    plan_id = import_plan(tmp_path, db_url)
    shown = runner.invoke(app, ["plans", "show", plan_id], env=env(tmp_path, db_url))
    assert shown.exit_code == 0, shown.output
    assert "CLI project" in shown.output and "#6" in shown.output and "Estimate" in shown.output

    approved = runner.invoke(app, ["plans", "approve", plan_id], env=env(tmp_path, db_url))
    assert approved.exit_code == 0 and "approved" in approved.output

    again = runner.invoke(app, ["plans", "approve", plan_id], env=env(tmp_path, db_url))
    assert again.exit_code == 1
    assert "invalid_status_transition" in again.output and "'approved'" in again.output

    listed = runner.invoke(app, ["plans", "list", "--status", "approved"], env=env(tmp_path, db_url))
    assert plan_id in listed.output and "1 of 1 plans" in listed.output


def test_reject_and_unknown_ids(tmp_path: Path, db_url: str) -> None:
    plan_id = import_plan(tmp_path, db_url)
    rejected = runner.invoke(app, ["plans", "reject", plan_id, "--reason", "no"], env=env(tmp_path, db_url))
    assert rejected.exit_code == 0 and "rejected" in rejected.output
    missing = runner.invoke(
        app, ["plans", "show", "00000000-0000-0000-0000-000000000000"], env=env(tmp_path, db_url)
    )
    assert missing.exit_code == 1 and "not found" in missing.output
    bad = runner.invoke(app, ["plans", "show", "nope"], env=env(tmp_path, db_url))
    assert bad.exit_code == 2 and "not a plan id" in bad.output


def test_import_of_an_invalid_plan_lists_the_problems(tmp_path: Path, db_url: str) -> None:
    document = synthetic_plan(4, seed=2).model_dump(mode="json")
    document["phases"][0]["milestones"][0]["tasks"][0]["depends_on"] = [42]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    result = runner.invoke(app, ["plans", "import", str(path)], env=env(tmp_path, db_url))
    assert result.exit_code == 1
    assert "unknown task 42" in result.output


def test_every_command_has_help() -> None:
    for args in (["--help"], ["plans", "--help"], ["plans", "import", "--help"], ["db", "upgrade", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage" in result.output


def test_edit_versions_diff_export_and_tool_import(tmp_path: Path, db_url: str) -> None:
    plan_id = import_plan(tmp_path, db_url)
    edited = runner.invoke(
        app,
        ["plans", "edit", plan_id, '{"op": "update_task", "task": 2, "name": "Renamed"}'],
        env=env(tmp_path, db_url),
    )
    assert edited.exit_code == 0 and "version 2" in edited.output, edited.output
    listed = runner.invoke(app, ["plans", "versions", plan_id], env=env(tmp_path, db_url))
    assert "v1" in listed.output and "v2" in listed.output
    diff = runner.invoke(app, ["plans", "diff", plan_id, "1", "2"], env=env(tmp_path, db_url))
    assert '"Renamed"' in diff.output
    out = tmp_path / "plan.md"
    exported = runner.invoke(
        app, ["plans", "export", plan_id, "--format", "markdown", "-o", str(out)], env=env(tmp_path, db_url)
    )
    assert exported.exit_code == 0 and "**#2 Renamed**" in out.read_text()

    tasks_md = tmp_path / "tasks.md"
    tasks_md.write_text(
        "# Tasks: Tiny\n## Phase 1: Setup\n- [ ] T001 Create app/main.py\n- [ ] T002 Write docs\n"
    )
    imported = runner.invoke(
        app, ["plans", "import", "--from", "speckit", str(tasks_md)], env=env(tmp_path, db_url)
    )
    assert imported.exit_code == 0, imported.output
    assert "fill in before approval): [2]" in imported.output


def test_review_and_apply_suggestions(tmp_path: Path, db_url: str) -> None:
    plan_id = import_plan(tmp_path, db_url)
    environment = {**env(tmp_path, db_url), "MASTERPLAN_MODEL": "sim"}
    reviewed = runner.invoke(
        app, ["plans", "review", plan_id, "--type", "refine_descriptions"], env=environment
    )
    assert reviewed.exit_code == 0, reviewed.output
    match = re.search(r"review iteration ([0-9a-f-]{36}): (\d+) suggestions", reviewed.output)
    assert match and int(match.group(2)) >= 1, reviewed.output
    applied = runner.invoke(
        app, ["plans", "apply-suggestions", plan_id, match.group(1), "0"], env=environment
    )
    assert applied.exit_code == 0 and "now version 2" in applied.output, applied.output
    again = runner.invoke(app, ["plans", "apply-suggestions", plan_id, match.group(1), "0"], env=environment)
    assert again.exit_code == 1 and "already applied" in again.output
    bad = runner.invoke(app, ["plans", "review", plan_id, "--type", "nonsense"], env=environment)
    assert bad.exit_code == 2
