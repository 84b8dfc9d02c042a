"""A generation survives its process being killed: a restarted process resumes it after the last step."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections import Counter

import pytest
from sqlalchemy import select

from masterplan.durable import launch_durable, shutdown_durable
from masterplan.events import events_after
from masterplan.events.store import conversation_stream
from masterplan.generation.workflow import wait_generation
from masterplan.models import Generation, Task
from masterplan.runtime import Runtime

MODEL = "sim:tasks=40,latency=0.2"
FIRST_PROCESS = textwrap.dedent(
    f"""
    import os, signal, sys, time
    from sqlalchemy import select
    from masterplan.auth.tokens import ensure_local_user
    from masterplan.config import Settings
    from masterplan.durable import launch_durable
    from masterplan.generation import service
    from masterplan.generation.workflow import launch_generation
    from masterplan.models import Generation
    from masterplan.runtime import build_runtime

    settings = Settings(_env_file=None)
    runtime = build_runtime(settings)
    launch_durable(runtime, executor_id="recovery-test")
    with runtime.transaction() as session:
        user = ensure_local_user(session, settings)
        generation = service.create_generation(session, user, "a todo REST API", settings, model="{MODEL}")
    print(generation.id, flush=True)
    launch_generation(generation.id, "{MODEL}")
    while True:
        with runtime.transaction() as session:
            row = session.get(Generation, generation.id)
            if row.output_tokens and row.stage == "planning" and row.output_tokens > 2500:
                break
        time.sleep(0.02)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


@pytest.mark.slow
def test_a_killed_generation_resumes_in_a_new_process(runtime: Runtime) -> None:
    settings = runtime.settings
    env = {
        **os.environ,
        "MASTERPLAN_DATA_DIR": str(settings.data_dir),
        "MASTERPLAN_DATABASE_URL": settings.resolved_database_url,
        "MASTERPLAN_LOCAL_TOKEN": settings.local_token.get_secret_value(),
    }
    first = subprocess.run(
        [sys.executable, "-c", FIRST_PROCESS], env=env, capture_output=True, text=True, timeout=120
    )
    assert first.returncode == -9, first.stderr
    generation_id = uuid.UUID(first.stdout.split()[0])
    with runtime.transaction() as session:
        interrupted = session.get(Generation, generation_id)
        assert interrupted is not None and interrupted.status == "running"
        assert session.scalars(select(Task)).all() == []

    launch_durable(runtime, executor_id="recovery-test")  # the same executor adopts its unfinished work
    try:
        plan_id = wait_generation(generation_id)
    finally:
        shutdown_durable()

    assert plan_id is not None
    with runtime.transaction() as session:
        generation = session.get(Generation, generation_id)
        assert generation is not None and generation.status == "completed"
        assert len(session.scalars(select(Task)).all()) == 40
        events = events_after(session, conversation_stream(generation.conversation_id))
    done = Counter(
        e.payload["milestones_done"] for e in events if e.payload.get("message", "").endswith("planned")
    )
    # milestones finished before the kill were not planned again (at most the one in flight repeats)
    assert sum(count - 1 for count in done.values()) <= 1
    assert [e.type for e in events].count("discovery_complete") == 1
