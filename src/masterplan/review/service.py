"""Reviews the system writes: creating them, following a task's new score, the end of a regeneration.
Every change is audited and sent as an event. Services never commit. (A human's decisions: actions.py.)"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from masterplan.events import plan_stream, record_event
from masterplan.events.schemas import ReviewCreated, ReviewUpdated
from masterplan.llm import CallUsage
from masterplan.models import Masterplan, Review, Task, User
from masterplan.plans.audit import record_history
from masterplan.plans.transitions import move_review
from masterplan.review import repository
from masterplan.review.confidence import review_priority
from masterplan.review.schemas import ReviewAction

REGENERATION_FAILED = "the regenerated task failed"


def add_quality_cost(plan: Masterplan, usage: CallUsage) -> None:
    """Count a reviewer or derivation call in the plan's spend (task attempts are counted elsewhere)."""
    if usage.cost_usd:
        plan.quality_cost_usd += usage.cost_usd
        plan.actual_cost_usd += usage.cost_usd


def emit_update(session: Session, plan: Masterplan, review: Review, action: ReviewAction) -> None:
    record_event(
        session,
        plan_stream(plan.id),
        "review_updated",
        ReviewUpdated(
            review_id=review.id,
            task_id=review.task_id,
            action=action,
            status=review.status,
            confidence=review.confidence,
            priority=review.priority,
        ),
        trace_id=plan.trace_id,
        masterplan_id=plan.id,
    )


def audit_review(
    session: Session,
    plan: Masterplan,
    review: Review,
    action: str,
    *,
    actor: User | None,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str | None = None,
    client_address: str | None = None,
) -> None:
    record_history(
        session,
        actor=actor,
        action=action,
        masterplan_id=plan.id,
        target_type="review",
        target_id=str(review.id),
        before=before,
        after=after,
        reason=reason,
        client_address=client_address,
        trace_id=plan.trace_id,
    )


def create_review(
    session: Session, plan: Masterplan, task: Task, suggestions: list[str], *, reason: str
) -> Review:
    """A pending review of a scored task; event review_created."""
    assert task.confidence is not None
    review = Review(
        id=uuid.uuid4(),
        masterplan_id=plan.id,
        task_id=task.id,
        confidence=task.confidence,
        priority=review_priority(task.confidence),
        status="pending",
        suggestions=suggestions,
    )
    session.add(review)
    session.flush()
    after = {
        "status": "pending",
        "confidence": review.confidence,
        "priority": review.priority,
        "reason": reason,
    }
    audit_review(session, plan, review, "review_created", actor=None, before={}, after=after)
    record_event(
        session,
        plan_stream(plan.id),
        "review_created",
        ReviewCreated(
            review_id=review.id, task_id=task.id, confidence=review.confidence, priority=review.priority
        ),
        trace_id=plan.trace_id,
        masterplan_id=plan.id,
    )
    return review


def rescore_review(session: Session, plan: Masterplan, task: Task, review: Review) -> None:
    """A pending review follows its task's new score (e.g. after acceptance tests ran)."""
    assert task.confidence is not None
    if review.confidence == task.confidence:
        return
    review.confidence = task.confidence
    review.priority = review_priority(task.confidence)
    emit_update(session, plan, review, "rescored")


def requeue_review(
    session: Session, plan: Masterplan, task: Task, review: Review, suggestions: list[str]
) -> None:
    """A regeneration ended with a score still below 0.70: the review waits for a human again."""
    assert task.confidence is not None
    before = {"status": review.status, "confidence": review.confidence}
    move_review(review, "pending")
    review.confidence = task.confidence
    review.priority = review_priority(task.confidence)
    review.suggestions = suggestions
    audit_review(
        session,
        plan,
        review,
        "review_requeued",
        actor=None,
        before=before,
        after={"status": "pending", "confidence": review.confidence},
    )
    emit_update(session, plan, review, "requeued")


def settle_regeneration(
    session: Session, plan: Masterplan, task: Task, review: Review, *, failed: bool
) -> None:
    """The regenerated task ended: a good score approves the review; a failure sends it back to pending."""
    before = {"status": review.status, "confidence": review.confidence}
    if failed:
        move_review(review, "pending")
        review.suggestions = [f"{REGENERATION_FAILED}: {task.last_error or 'no detail'}", *review.suggestions]
        action = "review_requeued"
    else:
        assert task.confidence is not None
        move_review(review, "approved")
        review.confidence = task.confidence
        review.priority = review_priority(task.confidence)
        action = "review_regenerated"
    audit_review(
        session,
        plan,
        review,
        action,
        actor=None,
        before=before,
        after={"status": review.status, "confidence": review.confidence},
    )
    emit_update(session, plan, review, "requeued" if failed else "regenerated")


def regeneration_feedbacks(session: Session, task_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The human feedback each task being regenerated must address, in one query (tasks not being
    regenerated are left out)."""
    feedback: dict[uuid.UUID, list[str]] = {}
    for task_id, review in repository.open_reviews(session, task_ids).items():
        if review.status == "regenerating" and review.reviewer_feedback:
            feedback[task_id] = [f"A human reviewer asked for changes: {review.reviewer_feedback}"]
    return feedback
