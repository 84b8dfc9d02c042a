"""One task run directly (no workflow): repeating it after a crash asks the model nothing twice and
commits nothing twice."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models.function import AgentInfo
from sqlalchemy import func, select

from masterplan.errors import InvalidStatusTransition
from masterplan.execution import atom
from masterplan.execution.attempts import finish_success, record_answer
from masterplan.execution.coder import CoderAnswer
from masterplan.execution.validation import ValidationReport
from masterplan.llm import CallUsage, CoderOutput, GeneratedFile, resolve_model
from masterplan.models import Masterplan, Task, TaskAttempt, User
from masterplan.plans.service import change_plan_status
from masterplan.runtime import Runtime
from masterplan.workspace.git import commit_count
from tests.fixtures.running_plan import FILES, complete_task, running_plan

NEVER = {"model_coder": "function:tests.execution.test_atom:must_not_be_called"}


def must_not_be_called(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    raise AssertionError("the model was asked again")


@pytest.mark.parametrize("settings", [NEVER], indirect=True)
def test_a_task_caught_validating_finishes_from_its_stored_answer(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user)
    start = atom.begin(runtime, plan.id, 1)
    assert start.task_id is not None and start.context is not None
    answer = CoderAnswer(
        CoderOutput(files=[GeneratedFile(path="calc/ops.py", content="def add(a, b):\n    return a + b\n")]),
        None,
        CallUsage(model="sim", input_tokens=100, output_tokens=20, requests=1, cost_usd=0.01),
        "prompt",
    )
    resolved = resolve_model("coder", runtime.settings.model_copy(update={"model_coder": "sim"}))
    assert record_answer(runtime, plan.id, start.task_id, answer, resolved, 1) == "validating"
    # The process died here; the repeated step runs the whole atom again.
    assert atom.run_atom(runtime, plan.id, 1)["status"] == "completed"
    assert atom.run_atom(runtime, plan.id, 1) == {"task_number": 1, "status": "completed"}
    assert commit_count(plan.workspace) == 2
    assert (plan.workspace / "calc/ops.py").read_text().startswith("def add")
    with runtime.reading() as session:
        task = session.get(Task, start.task_id)
        row = session.get(Masterplan, plan.id)
        attempts = session.scalar(
            select(func.count()).select_from(TaskAttempt).where(TaskAttempt.task_id == start.task_id)
        )
        assert task is not None and row is not None
        assert (task.status, task.cost_usd, attempts) == ("completed", 0.01, 1)
        assert row.completed_tasks == 1 and row.actual_cost_usd == pytest.approx(0.01 + row.quality_cost_usd)


def test_a_paused_plan_defers_its_tasks_without_touching_them(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user)
    with runtime.transaction() as session:
        row = session.get(Masterplan, plan.id)
        assert row is not None
        change_plan_status(session, row, "paused", actor=None, action="pause")
    assert atom.run_atom(runtime, plan.id, 1) == {"task_number": 1, "status": "deferred"}
    with runtime.reading() as session:
        assert session.scalar(select(Task.status).where(Task.id == plan.task_ids[1])) == "pending"


def test_a_task_not_validating_is_not_completed(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user)
    with pytest.raises(InvalidStatusTransition, match="from 'pending' to 'completed'"):
        finish_success(runtime, plan.id, plan.task_ids[1], ValidationReport(), ["calc/ops.py"], None)
    with runtime.reading() as session:
        task = session.get(Task, plan.task_ids[1])
        assert task is not None and (task.status, task.modified_files, task.completed_at) == (
            "pending",
            [],
            None,
        )


def test_a_batch_starts_its_claimed_tasks_from_what_they_would_read_alone(
    runtime: Runtime, local_user: User
) -> None:
    plan = running_plan(runtime, local_user)
    complete_task(runtime, plan, 1)
    alone = atom.begin(runtime, plan.id, 2)  # claims task 2 (in_progress) and reads its start
    batch = atom.prepare_batch(runtime, plan.id, [2, 3])
    assert sorted(batch) == [2, 3] and batch[2] == alone
    # Task 3 is not claimed yet: it claims itself when it starts, from what the batch read.
    assert not batch[3].claimed
    started = atom.begin(runtime, plan.id, 3, batch[3])
    assert started is batch[3]
    assert atom.begin(runtime, plan.id, 3) == dataclasses.replace(started, claimed=True)
    with runtime.reading() as session:
        assert (
            session.scalars(
                select(Task.status).where(Task.masterplan_id == plan.id, Task.task_number == 3)
            ).one()
            == "in_progress"
        )
    # The files its dependency wrote, read with the batch (task 3's dependency has not run: none).
    assert alone.context is not None and alone.context.dependency_files == [
        ("calc/ops.py", FILES[1]["calc/ops.py"])
    ]
    assert batch[3].context is not None and batch[3].context.dependency_files == []
