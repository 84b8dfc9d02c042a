"""`masterplan execute|retry|pause` with no server running: the CLI serves the run itself."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

from masterplan.auth.tokens import ensure_local_user
from masterplan.cli import app
from masterplan.cli.server import free_port
from masterplan.plans.schemas import ApproveRequest
from masterplan.plans.service import approve_plan, create_plan
from masterplan.runtime import build_runtime
from tests.conftest import TOKEN, make_settings
from tests.execution.helpers import tasks_by_number
from tests.execution.test_control import chain_plan

runner = CliRunner()


def invoke(args: list[str], env: dict[str, str]) -> Result:
    """Run the CLI; DBOS binds its log handler to the stderr of its first launch, which CliRunner closes."""
    try:
        return runner.invoke(app, args, env=env)
    finally:
        for handler in logging.getLogger("dbos").handlers:
            if type(handler) is logging.StreamHandler and getattr(handler.stream, "closed", False):
                handler.stream = sys.__stderr__


def test_execute_then_retry_a_failed_task_from_the_cli(tmp_path: Path, db_url: str) -> None:
    env = {
        "MASTERPLAN_DATA_DIR": str(tmp_path / "data"),
        "MASTERPLAN_DATABASE_URL": db_url,
        "MASTERPLAN_LOCAL_TOKEN": TOKEN,
        "MASTERPLAN_MODEL": "sim",
        "MASTERPLAN_MODEL_CODER": "sim:fail_tasks=2",
        "MASTERPLAN_TASK_MAX_RETRIES": "1",
        "MASTERPLAN_PORT": str(free_port()),  # nothing listens there: the CLI runs the work itself
        "COLUMNS": "200",
    }
    runtime = build_runtime(make_settings(tmp_path / "data", db_url))
    try:
        with runtime.transaction() as session:
            user = ensure_local_user(session, runtime.settings)
            plan = create_plan(session, user, chain_plan())
            approve_plan(session, user, plan.id, ApproveRequest())
            plan_id = str(plan.id)

        result = invoke(["execute", plan_id], env=env)
        assert result.exit_code == 0, result.output
        assert "plan completed" in result.output
        assert "failed: #2" in result.output
        assert tasks_by_number(runtime, plan_id)[3].status == "blocked"

        fixed = {**env, "MASTERPLAN_MODEL_CODER": "sim"}
        retried = invoke(["retry", plan_id, "2"], env=fixed)
        assert retried.exit_code == 0, retried.output
        assert "starts with the next" in retried.output
        again = invoke(["execute", plan_id], env=fixed)
        assert again.exit_code == 0, again.output
        assert all(t.status == "completed" for t in tasks_by_number(runtime, plan_id).values())

        refused = invoke(["pause", plan_id], env=fixed)
        assert refused.exit_code == 1
        assert "cannot move masterplan from 'completed' to 'paused'" in refused.output
        unknown = invoke(["retry", plan_id, "99"], env=fixed)
        assert unknown.exit_code == 1 and "has no task 99" in unknown.output
    finally:
        runtime.close()
