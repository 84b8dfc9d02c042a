"""Scoring completed tasks: parts stored, a review below 0.70 (not above) with the reviewer's suggestions,
integration after acceptance runs, and the completion sample."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from sqlalchemy import select

from masterplan.acceptance.gate import run_wave_acceptance
from masterplan.llm import ResolvedModel
from masterplan.llm.spec import ModelSpec
from masterplan.models import AcceptanceTest, ExecutionEvent, HistoryEntry, Review, Task, User
from masterplan.review.scoring import queue_lowest_confidence, score_task
from masterplan.runtime import Runtime
from tests.fixtures.running_plan import RunningPlan, calc_document, complete_task, running_plan


class Reviewer:
    """A reviewer model that remembers its prompts and answers fixed suggestions (or fails)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.prompts: list[str] = []
        self.fail = fail

    def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.prompts.extend(
            str(p.content) for m in messages for p in getattr(m, "parts", []) if isinstance(p, UserPromptPart)
        )
        if self.fail:
            raise RuntimeError("provider down")
        args = {"suggestions": ["check the empty list case", "name the error"]}
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, json.dumps(args))])

    @property
    def model(self) -> ResolvedModel:
        return ResolvedModel(
            spec=ModelSpec("function", "r"), name="function:r", model=FunctionModel(self), settings={}
        )


def task_row(runtime: Runtime, plan: RunningPlan, number: int) -> Task:
    with runtime.reading() as session:
        task = session.get(Task, plan.task_ids[number])
        assert task is not None
        session.expunge(task)
        return task


def reviews(runtime: Runtime, plan: RunningPlan) -> list[Review]:
    with runtime.reading() as session:
        rows = list(session.scalars(select(Review).where(Review.masterplan_id == plan.id)).all())
        for row in rows:
            session.expunge(row)
        return rows


def plan_events(runtime: Runtime, plan: RunningPlan, kind: str) -> list[dict[str, Any]]:
    with runtime.reading() as session:
        return list(
            session.scalars(
                select(ExecutionEvent.payload).where(
                    ExecutionEvent.stream == f"masterplan:{plan.id}", ExecutionEvent.type == kind
                )
            ).all()
        )


def test_a_confident_task_is_scored_without_a_review(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user)
    complete_task(runtime, plan, 1)
    reviewer = Reviewer()
    score = score_task(runtime, plan.task_ids[1], reviewer=reviewer.model)
    assert score is not None and score.score == pytest.approx(0.95) and score.review_id is None
    task = task_row(runtime, plan, 1)
    assert task.confidence == pytest.approx(0.95)
    assert task.confidence_parts["validation"] == 1.0 and task.confidence_parts["integration"] == 0.5
    assert task.confidence_parts["weights"]["validation"] == 0.4
    assert reviews(runtime, plan) == [] and reviewer.prompts == []


def test_a_low_score_creates_a_high_priority_review_with_suggestions(
    runtime: Runtime, local_user: User
) -> None:
    plan = running_plan(runtime, local_user, calc_document(("critical", "medium", "high")))
    # two failed attempts, then 1 of 2 checks: validation 0.5 * 0.6 = 0.3, retries 1/3, critical 0.25
    complete_task(runtime, plan, 1, attempts=[(0, 2), (1, 2), (1, 2)])
    reviewer = Reviewer()
    score = score_task(runtime, plan.task_ids[1], reviewer=reviewer.model)
    assert score is not None and score.score == pytest.approx(
        0.4 * 0.3 + 0.3 / 3 + 0.2 * 0.25 + 0.05, abs=1e-4
    )
    [review] = reviews(runtime, plan)
    assert review.priority == "high" and review.status == "pending"
    assert review.confidence == score.score and review.id == score.review_id
    assert review.suggestions == ["check the empty list case", "name the error"]
    prompt = reviewer.prompts[0]
    assert "+def add(a, b):" in prompt  # the diff of the task's commit
    assert "attempt 1: check failed" in prompt  # the errors of its attempts
    [event] = plan_events(runtime, plan, "review_created")
    assert event["review_id"] == str(review.id) and event["task_id"] == str(plan.task_ids[1])
    with runtime.reading() as session:
        assert session.scalars(
            select(HistoryEntry.action).where(HistoryEntry.target_id == str(review.id))
        ).all() == ["review_created"]

    again = score_task(runtime, plan.task_ids[1], reviewer=reviewer.model)
    assert again is not None and again.review_id == review.id
    assert len(reviews(runtime, plan)) == 1 and len(reviewer.prompts) == 1


def test_between_half_and_seventy_percent_is_medium(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user, calc_document(("high", "medium", "high")))
    complete_task(runtime, plan, 1, attempts=[(0, 2), (2, 2)])  # 0.4*0.8 + 0.3*2/3 + 0.1 + 0.05 = 0.67
    score = score_task(runtime, plan.task_ids[1], reviewer=Reviewer().model)
    assert score is not None and score.score == pytest.approx(0.67, abs=1e-4)
    [review] = reviews(runtime, plan)
    assert review.priority == "medium"


def test_just_above_the_threshold_no_review(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user, calc_document(("critical", "medium", "high")))
    complete_task(runtime, plan, 1)  # 0.4 + 0.3 + 0.05 + 0.05 = 0.80
    score = score_task(runtime, plan.task_ids[1], reviewer=Reviewer().model)
    assert score is not None and score.score == pytest.approx(0.80) and reviews(runtime, plan) == []


def test_a_failing_reviewer_still_creates_the_review(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user, calc_document(("critical", "medium", "high")))
    complete_task(runtime, plan, 1, attempts=[(0, 2), (0, 2), (1, 2)])
    score_task(runtime, plan.task_ids[1], reviewer=Reviewer(fail=True).model)
    [review] = reviews(runtime, plan)
    assert review.suggestions == [] and review.status == "pending"


def test_the_simulator_reviews_by_default(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user, calc_document(("critical", "medium", "high")))
    complete_task(runtime, plan, 1, attempts=[(0, 2), (0, 2), (1, 2)])
    score_task(runtime, plan.task_ids[1])
    [review] = reviews(runtime, plan)
    assert review.suggestions and all(s.startswith("(sim)") for s in review.suggestions)


def test_failed_acceptance_tests_lower_the_integration_part(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user, calc_document(("high", "medium", "high")))
    complete_task(runtime, plan, 1)  # 0.4 + 0.3 + 0.1 + 0.05 = 0.85
    assert score_task(runtime, plan.task_ids[1]) is not None and reviews(runtime, plan) == []
    with runtime.transaction() as session:
        for name, code in (
            ("a", "def test_a():\n    assert False\n"),
            ("b", "def test_b():\n    assert False\n"),
        ):
            session.add(
                AcceptanceTest(
                    id=uuid.uuid4(),
                    masterplan_id=plan.id,
                    name=name,
                    covers_tasks=[1],
                    kind="pytest",
                    pytest_code=code,
                    priority="should",
                )
            )
    run_wave_acceptance(runtime, plan.id, 1)
    task = task_row(runtime, plan, 1)
    assert task.confidence_parts["integration"] == 0.0 and task.confidence == pytest.approx(0.80)
    # still above 0.70: integration alone moves at most 0.10
    assert reviews(runtime, plan) == []


def test_the_lowest_fifteen_percent_are_queued_at_completion(runtime: Runtime, local_user: User) -> None:
    plan = running_plan(runtime, local_user, calc_document(("low", "medium", "high")))
    for number in (1, 2, 3):
        complete_task(runtime, plan, number)
        score_task(runtime, plan.task_ids[number])
    assert reviews(runtime, plan) == []
    created = queue_lowest_confidence(runtime, plan.id, reviewer=Reviewer().model)
    [review] = reviews(runtime, plan)
    assert created == [review.id]
    assert review.task_id == plan.task_ids[3] and review.priority == "low"  # high complexity scores lowest
    assert queue_lowest_confidence(runtime, plan.id) == []  # already queued
    with runtime.reading() as session:
        entry = session.scalars(select(HistoryEntry).where(HistoryEntry.action == "review_created")).one()
        assert entry.after is not None and entry.after["reason"] == "completion_sample"
