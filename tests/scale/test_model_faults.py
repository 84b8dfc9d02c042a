"""Model faults from `sim` on the scale-out layout: provider timeouts, 429s and 500s, and invalid answers at
set rates. Provider errors are retried with backoff, invalid answers are retried with feedback; nothing
is lost, and a task fails only where its retry budget is spent (its dependents are then blocked)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from masterplan.models import Task, TaskAttempt
from masterplan.plans.graph import dependents_closure
from masterplan.plans.synthetic import synthetic_plan
from masterplan.runtime import Runtime
from masterplan.workspace.git import git
from tests.scale.cluster import cluster, wait_finished

pytestmark = pytest.mark.slow
TASKS = 30
ALWAYS_INVALID = {4, 17}
MAX_RETRIES = 2
ENV = {
    "MASTERPLAN_MODEL": "sim:latency=0.05,error_rate=0.3,fail_rate=0.15,seed=3,fail_tasks="
    + "+".join(str(n) for n in sorted(ALWAYS_INVALID)),
    "MASTERPLAN_PARALLELISM": "6",
    "MASTERPLAN_LLM_MAX_RETRIES": "4",
    "MASTERPLAN_LLM_RETRY_BACKOFF_SECONDS": "0.02",
    "MASTERPLAN_TASK_MAX_RETRIES": str(MAX_RETRIES),
}


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def test_faults_are_retried_and_failures_are_where_the_budget_is_spent(
    pg_runtime: Runtime, tmp_path: Path
) -> None:
    with cluster(pg_runtime, tmp_path / "logs", **ENV) as c:
        c.start_api()
        c.start_worker("worker-a")
        c.start_worker("worker-b")
        document = synthetic_plan(TASKS, seed=9)
        started = c.run_plan(document)
        plan_id = started["plan_id"]
        final = wait_finished(pg_runtime, plan_id, 110)
        logs = c.all_logs(tail=10**7)
    assert final.status == "completed", logs[-5000:]
    assert logs.count('"llm_retry"') >= 3, "provider errors were injected and retried"

    with pg_runtime.reading() as session:
        tasks = {
            t.task_number: t
            for t in session.scalars(select(Task).where(Task.masterplan_id == uuid.UUID(plan_id)))
        }
        attempts: dict[uuid.UUID, list[TaskAttempt]] = {}
        for attempt in session.scalars(
            select(TaskAttempt).where(TaskAttempt.task_id.in_([t.id for t in tasks.values()]))
        ):
            attempts.setdefault(attempt.task_id, []).append(attempt)
    failed = {n for n, t in tasks.items() if t.status == "failed"}
    blocked = {n for n, t in tasks.items() if t.status == "blocked"}
    completed = {n for n, t in tasks.items() if t.status == "completed"}
    graph = {t.task_number: t.depends_on for t in document.all_tasks()}

    assert completed | failed | blocked == set(range(1, TASKS + 1)), "every task reached an end state"
    assert failed >= ALWAYS_INVALID, "tasks whose every answer is invalid fail"
    for number in failed:
        tried = attempts[tasks[number].id]
        assert len(tried) == MAX_RETRIES + 1 and not any(a.passed for a in tried), (
            "failed only once the budget was spent"
        )
    assert blocked == dependents_closure(graph, sorted(failed)) - failed, (
        "exactly the dependents of failures are blocked"
    )
    calls = [line for line in json_lines(logs) if line.get("event") == "llm_usage"]
    assert any(call["requests"] > 1 for call in calls), "invalid answers were sent back to the model"
    # Every model call's log line says which plan, task and trace it belongs to.
    assert {call.get("masterplan_id") for call in calls} == {plan_id}
    assert {call.get("trace_id") for call in calls} == {final.trace_id}
    assert {call.get("task_id") for call in calls} >= {str(tasks[n].id) for n in completed | failed}
    for number in completed:
        assert sum(a.passed for a in attempts[tasks[number].id]) == 1
    assert (final.completed_tasks, final.failed_tasks) == (len(completed), len(failed))
    subjects = git(Path(started["workspace_path"]), "log", "--format=%s").splitlines()
    committed = sorted(int(s.split(":", 1)[0].split()[1]) for s in subjects if s.startswith("task "))
    assert committed == sorted(completed), "one commit per completed task, none for the others"
