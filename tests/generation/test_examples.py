"""Few-shot examples: shipped plans are valid; similar approved or completed plans are found by text."""

from __future__ import annotations

from masterplan.generation.examples import (
    best_shipped,
    shipped_examples,
    similar_plan_ids,
    skeleton_example,
    task_examples,
)
from masterplan.generation.rules import milestone_problems
from masterplan.models import Masterplan, User
from masterplan.plans.schemas import PlanDocument
from masterplan.plans.service import create_plan
from masterplan.plans.validation import plan_problems
from masterplan.runtime import Runtime


def test_shipped_examples_are_valid_plans() -> None:
    examples = shipped_examples()
    assert len(examples) >= 4
    for document in examples:
        assert plan_problems(document) == [], document.project_name
        assert milestone_problems(document.all_tasks(), [], 1) == [], document.project_name
        assert [p.phase_type for p in document.phases] == ["setup", "core", "polish"]


def test_the_closest_shipped_example_is_chosen() -> None:
    assert best_shipped("a todo list REST API")[0].project_name == "Todo REST API"
    chosen = best_shipped("a command line tool that converts CSV files")[0]
    assert "cli" in " ".join(chosen.tech_stack).lower() or "command" in chosen.description.lower()


def test_examples_render_compactly() -> None:
    document = best_shipped("todo")[0]
    shape = skeleton_example(document)
    assert shape.startswith("Example plan 'Todo REST API'")
    assert "milestone 1:" in shape
    assert task_examples(document).startswith("[{")


def store(runtime: Runtime, user: User, name: str, description: str, status: str) -> Masterplan:
    document = best_shipped("todo")[0].model_copy(update={"project_name": name, "description": description})
    with runtime.transaction() as session:
        plan = create_plan(session, user, PlanDocument.model_validate(document.model_dump()))
        plan.status = status
    return plan


def test_similar_plans_are_the_approved_or_completed_ones_that_share_words(
    runtime: Runtime, local_user: User
) -> None:
    todo = store(runtime, local_user, "Todo service", "Lists of todos with users and reminders", "approved")
    store(runtime, local_user, "Todo draft", "Todos with users, never approved", "draft")
    done = store(runtime, local_user, "Invoice tool", "Invoices for customers with users", "completed")
    store(runtime, local_user, "Weather", "Forecast charts", "completed")

    with runtime.transaction() as session:
        ids = similar_plan_ids(session, local_user.id, "a todo app with users and reminders", limit=3)
        assert ids == [todo.id, done.id]
        assert similar_plan_ids(session, local_user.id, "the the and", limit=3) == []
