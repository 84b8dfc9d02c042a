"""`masterplan watch`: prints the stored stream, then live events, against a real server."""

from __future__ import annotations

import json
import threading
import time
import uuid

from typer.testing import CliRunner

from masterplan.cli.main import app
from masterplan.models import Masterplan, User
from masterplan.plans.service import change_plan_status
from masterplan.runtime import Runtime
from tests.conftest import TOKEN
from tests.realtime.support import create_plan, free_port, record_progress

runner = CliRunner()


def move(runtime: Runtime, plan_id: uuid.UUID, *statuses: str) -> None:
    for status in statuses:
        with runtime.transaction() as session:
            plan = session.get(Masterplan, plan_id)
            assert plan is not None
            change_plan_status(session, plan, status, actor=None, action=status)


def test_watch_prints_history_then_live_events_until_the_plan_is_done(
    server_url: str, runtime: Runtime, local_user: User
) -> None:
    plan_id = create_plan(runtime, local_user)
    move(runtime, plan_id, "approved", "in_progress")

    def execute_later() -> None:
        time.sleep(0.5)
        record_progress(runtime, plan_id, 2)
        move(runtime, plan_id, "completed")

    producer = threading.Thread(target=execute_later)
    producer.start()
    result = runner.invoke(
        app, ["watch", str(plan_id), "--until-done", "--url", server_url, "--token", TOKEN]
    )
    producer.join()
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("#")]
    assert len(lines) == 5
    assert "status draft -> approved" in lines[0]
    assert lines[2].startswith("#3") and "task #1 in_progress" in lines[2]
    assert "status in_progress -> completed" in lines[4]


def test_watch_json_and_live_only(server_url: str, runtime: Runtime, local_user: User) -> None:
    plan_id = create_plan(runtime, local_user)
    record_progress(runtime, plan_id, 3)

    def finish_later() -> None:
        time.sleep(0.5)
        move(runtime, plan_id, "rejected")

    producer = threading.Thread(target=finish_later)
    producer.start()
    args = ["watch", str(plan_id), "--live", "--json", "--until-done", "--url", server_url, "--token", TOKEN]
    result = runner.invoke(app, args)
    producer.join()
    assert result.exit_code == 0, result.output
    [only] = [json.loads(line) for line in result.stdout.splitlines()]
    assert only["type"] == "masterplan_status_changed" and only["seq"] == 4 and only["status"] == "rejected"


def test_watch_explains_failures(server_url: str, runtime: Runtime, local_user: User) -> None:
    plan_id = create_plan(runtime, local_user)
    bad_token = runner.invoke(app, ["watch", str(plan_id), "--url", server_url, "--token", "mp_wrong"])
    assert bad_token.exit_code == 1 and "unauthorized" in bad_token.output
    unknown = runner.invoke(app, ["watch", str(uuid.uuid4()), "--url", server_url, "--token", TOKEN])
    assert unknown.exit_code == 1 and "masterplan_not_found" in unknown.output
    nobody = f"http://127.0.0.1:{free_port()}"
    unreachable = runner.invoke(app, ["watch", str(plan_id), "--url", nobody, "--token", TOKEN])
    assert unreachable.exit_code == 1 and "masterplan serve" in unreachable.output
    malformed = runner.invoke(app, ["watch", "plan-7", "--url", server_url, "--token", TOKEN])
    assert malformed.exit_code == 2 and "not a plan id" in malformed.output
