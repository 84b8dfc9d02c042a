"""The durable generation end to end with FunctionModel stand-ins: plans stored, failures stored, events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from masterplan.events import events_after
from masterplan.events.store import conversation_stream, plan_stream
from masterplan.models import DiscoveryDocument, Masterplan, Message, Milestone, Subtask, Task, User
from masterplan.plans.service import document_of
from masterplan.plans.validation import plan_problems
from masterplan.runtime import Runtime
from tests.fixtures.llm import run_generation
from tests.generation import fakes

FAKES = "function:tests.generation.fakes"


@pytest.fixture(autouse=True)
def clean_fakes() -> Iterator[None]:
    fakes.FEEDBACK.clear()
    fakes.CALLS.clear()
    yield


def plan_row_counts(runtime: Runtime) -> tuple[int, int, int, int]:
    with runtime.transaction() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Masterplan, Milestone, Task, Subtask)
        )


def test_valid_answers_become_a_stored_draft_plan(durable: Runtime, local_user: User) -> None:
    generation = run_generation(durable, local_user, f"{FAKES}:valid")

    assert generation.status == "completed", generation.error
    assert generation.stage == "complete"
    with durable.transaction() as session:
        plan = session.get(Masterplan, generation.masterplan_id)
        assert plan is not None
        assert plan.status == "draft"
        assert (plan.total_phases, plan.total_milestones, plan.total_tasks) == (3, 3, 6)
        assert plan.discovery_id == generation.discovery_id
        assert plan.conversation_id == generation.conversation_id
        assert plan.llm_model == f"{FAKES}:valid"
        # 5 calls (discovery, skeleton, 3 milestones) of 1000 in / 200 out each
        assert (plan.generation_input_tokens, plan.generation_output_tokens) == (5000, 1000)
        assert plan.generation_cost_usd == 0.0  # in-process function models cost nothing
        assert plan.estimated_cost_usd is not None and plan.estimated_cost_usd > 0  # the sim coder's price
        discovery = session.get(DiscoveryDocument, generation.discovery_id)
        assert discovery is not None
        assert discovery.domain == "Todo lists"
        assert discovery.owner_id == local_user.id
        assert discovery.conversation_id == generation.conversation_id
        assert (discovery.input_tokens, discovery.output_tokens, discovery.cost_usd) == (1000, 200, 0.0)
        assert discovery.llm_model == f"{FAKES}:valid"
        reply = session.scalars(select(Message).where(Message.role == "assistant")).one()
        assert reply.masterplan_id == plan.id
        assert str(plan.id) in reply.content


def test_an_invalid_answer_is_retried_with_a_message_naming_the_problem(
    durable: Runtime, local_user: User
) -> None:
    generation = run_generation(durable, local_user, f"{FAKES}:bad_then_good")

    assert generation.status == "completed", generation.error
    assert any("task 2 ('Task 2') depends on unknown task 99" in text for text in fakes.FEEDBACK), (
        fakes.FEEDBACK
    )
    assert plan_row_counts(durable)[2] == 6


def test_always_invalid_answers_fail_with_the_reason_and_no_plan_rows(
    durable: Runtime, local_user: User
) -> None:
    generation = run_generation(durable, local_user, f"{FAKES}:always_unknown_dependency")

    assert generation.status == "failed"
    assert generation.masterplan_id is None
    assert generation.error is not None
    assert "milestone 1" in generation.error
    assert "depends on unknown task 99" in generation.error
    assert plan_row_counts(durable) == (0, 0, 0, 0)
    assert len(fakes.FEEDBACK) == 3  # the retry budget: three corrections asked for
    with durable.transaction() as session:
        events = events_after(session, conversation_stream(generation.conversation_id))
        failed = [e for e in events if e.type == "masterplan_generation_failed"]
        assert failed and "unknown task 99" in failed[0].payload["error"]
        reply = session.scalars(select(Message).where(Message.role == "assistant")).one()
        assert "could not generate" in reply.content


@pytest.mark.parametrize(
    ("fake", "problem"),
    [
        ("always_cycle", "dependency cycle: task 1 -> task 2 -> task 1"),
        ("always_unsafe_path", "target file '../outside.py' contains a '..' segment"),
        ("always_shared_file", "tasks 1 and 2 both write 'app/shared.py' but no dependency orders them"),
    ],
)
def test_rule_breaking_plans_are_rejected(
    durable: Runtime, local_user: User, fake: str, problem: str
) -> None:
    generation = run_generation(durable, local_user, f"{FAKES}:{fake}")

    assert generation.status == "failed"
    assert generation.error is not None and problem in generation.error
    assert any(problem in text for text in fakes.FEEDBACK)
    assert plan_row_counts(durable) == (0, 0, 0, 0)


def test_a_150_task_plan_across_many_milestones(durable: Runtime, local_user: User) -> None:
    generation = run_generation(durable, local_user, f"{FAKES}:large")

    assert generation.status == "completed", generation.error
    with durable.transaction() as session:
        plan = session.get(Masterplan, generation.masterplan_id)
        assert plan is not None
        assert (plan.total_milestones, plan.total_tasks) == (15, 150)
        numbers = session.scalars(select(Task.task_number).where(Task.masterplan_id == plan.id)).all()
        assert sorted(numbers) == list(range(1, 151))
        # 17 calls: discovery, skeleton, 15 milestones; no single answer holds the whole plan
        assert plan.generation_output_tokens == 17 * 200


def test_a_provider_error_then_success(durable: Runtime, local_user: User) -> None:
    generation = run_generation(durable, local_user, f"{FAKES}:flaky_provider")

    assert generation.status == "completed", generation.error
    assert fakes.CALLS["flaky"] == 6  # the failed attempt and the five calls that answered


def test_a_provider_that_stays_down_fails_the_generation(durable: Runtime, local_user: User) -> None:
    generation = run_generation(durable, local_user, f"{FAKES}:always_down")

    assert generation.status == "failed"
    assert generation.error is not None and "provider failed after retries" in generation.error
    assert generation.discovery_id is None


def test_progress_events_in_order(durable: Runtime, local_user: User) -> None:
    generation = run_generation(durable, local_user, f"{FAKES}:valid")

    with durable.transaction() as session:
        events = events_after(session, conversation_stream(generation.conversation_id))
        plan_events = events_after(session, plan_stream(generation.masterplan_id))  # type: ignore[arg-type]
    types = [e.type for e in events]
    assert types[:3] == ["discovery_start", "discovery_complete", "masterplan_generation_start"]
    assert types[-2:] == ["masterplan_generation_complete", "message_complete"]
    progress = [e for e in events if e.type == "masterplan_tokens_progress"]
    assert len(progress) == 4  # after the skeleton and after each of the 3 milestones
    tokens = [e.payload["tokens"] for e in progress]
    assert tokens == sorted(tokens) and tokens[-1] == 1000
    assert [e.payload["milestones_done"] for e in progress] == [0, 1, 2, 3]
    assert all(
        e.payload["generation_id"] == str(generation.id) for e in events if "generation_id" in e.payload
    )
    complete = events[-2].payload
    assert complete["masterplan_id"] == str(generation.masterplan_id)
    assert complete["tokens"] == 1000 and complete["tasks"] == 6
    assert [e.type for e in plan_events] == ["masterplan_generation_complete"]


def test_sim_plans_of_10_and_120_tasks_are_valid(durable: Runtime, local_user: User) -> None:
    for size in (10, 120):
        generation = run_generation(durable, local_user, f"sim:tasks={size},seed=3")
        assert generation.status == "completed", generation.error
        with durable.transaction() as session:
            from masterplan.plans import repository

            plan = repository.get_plan(session, local_user, generation.masterplan_id, hierarchy=True)  # type: ignore[arg-type]
            document = document_of(plan)
        assert len(document.all_tasks()) == size
        assert plan_problems(document) == []
        assert generation.cost_usd is not None and generation.cost_usd > 0
