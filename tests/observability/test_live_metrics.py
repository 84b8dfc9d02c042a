"""/metrics after real work: task and wave durations (read from the database, so every worker's work
counts), tokens by model, and this process's socket connections and events sent."""

from __future__ import annotations

import asyncio

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from masterplan.models import User
from masterplan.plans.graph import waves
from masterplan.plans.synthetic import synthetic_plan
from masterplan.realtime.client import RealtimeClient
from masterplan.runtime import Runtime
from tests.conftest import TOKEN
from tests.execution.helpers import approved_plan, execute, wait_plan
from tests.realtime.conftest import serve
from tests.realtime.support import create_plan, record_progress


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_durations_and_tokens_describe_the_runs_in_the_database(client: TestClient, runtime: Runtime) -> None:
    document = synthetic_plan(6, seed=2)
    plan_id = approved_plan(client, document)
    execute(client, plan_id)
    wait_plan(runtime, plan_id, {"completed"})
    found = samples(client.get("/metrics").text)
    assert found[("masterplan_task_duration_seconds_count", (("status", "completed"),))] == 6
    assert found[("masterplan_task_duration_seconds_bucket", (("le", "+Inf"), ("status", "completed")))] == 6
    assert found[("masterplan_task_duration_seconds_sum", (("status", "completed"),))] > 0
    wave_count = len(waves({t.task_number: t.depends_on for t in document.all_tasks()}))
    assert found[("masterplan_wave_duration_seconds_count", ())] == wave_count
    assert found[("masterplan_task_success_ratio", ())] == 1.0
    assert any(name == "masterplan_llm_task_tokens" and value > 0 for (name, _), value in found.items())


async def test_socket_connections_and_events_sent_are_counted(runtime: Runtime, local_user: User) -> None:
    plan_id = create_plan(runtime, local_user)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with serve(runtime) as url:
        async with RealtimeClient(url, TOKEN) as client:
            await client.join_masterplan(plan_id, last_seq=0)
            await asyncio.to_thread(record_progress, runtime, plan_id, 3)
            for _ in range(3):
                await client.next_event(10)
            during = samples((await asyncio.to_thread(httpx.get, f"{url}/metrics", headers=headers)).text)
        await asyncio.sleep(0.5)
        after = samples((await asyncio.to_thread(httpx.get, f"{url}/metrics", headers=headers)).text)
    assert during[("masterplan_socket_connections", ())] == 1
    assert during[("masterplan_events_sent_total", ())] >= 3
    assert after[("masterplan_socket_connections", ())] == 0
