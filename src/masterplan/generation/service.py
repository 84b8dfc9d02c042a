"""Generation rules on the database: the job row, its stages and events, and the final plan (created in
one transaction, so a failed generation leaves no plan rows). Services never commit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.config import Settings
from masterplan.conversations import service as conversations
from masterplan.errors import NotFound
from masterplan.events.schemas import (
    MasterplanGenerationComplete,
    MasterplanGenerationFailed,
    PlanGenerationEvent,
)
from masterplan.events.store import conversation_stream, plan_stream, record_event
from masterplan.generation.schemas import GenerationStage
from masterplan.llm import CallUsage, configured_name, parse_model_spec
from masterplan.models import Conversation, Generation, Masterplan, User
from masterplan.plans import repository
from masterplan.plans.estimates import estimate_tasks
from masterplan.plans.schemas import PlanDocument
from masterplan.plans.service import create_plan


def create_generation(
    session: Session,
    user: User,
    request_text: str,
    settings: Settings,
    *,
    conversation: Conversation | None = None,
    model: str | None = None,
) -> Generation:
    """A queued generation in the conversation (a new one when none is given); the model is checked now."""
    model_name = str(parse_model_spec(model)) if model else configured_name("planner", settings)
    parse_model_spec(model_name)
    if conversation is None:
        conversation = conversations.create_conversation(session, user, request_text[:80])
    generation = Generation(
        id=uuid.uuid4(),
        owner_id=user.id,
        conversation_id=conversation.id,
        request_text=request_text.strip(),
        status="queued",
        stage="queued",
        model=model_name,
        trace_id=uuid.uuid4().hex,
    )
    session.add(generation)
    session.flush()
    return generation


def get_generation(session: Session, user: User, generation_id: uuid.UUID) -> Generation:
    """The user's generation (admins see all); anyone else's is reported like an unknown one."""
    stmt = select(Generation).where(Generation.id == generation_id)
    if user.role != "admin":
        stmt = stmt.where(Generation.owner_id == user.id)
    generation = session.scalars(stmt).one_or_none()
    if generation is None:
        raise NotFound(f"generation {generation_id} not found", code="generation_not_found")
    return generation


def load_generation(session: Session, generation_id: uuid.UUID, *, for_update: bool = False) -> Generation:
    stmt = select(Generation).where(Generation.id == generation_id)
    if for_update:
        stmt = stmt.with_for_update()
    generation = session.scalars(stmt).one_or_none()
    if generation is None:
        raise NotFound(f"generation {generation_id} not found", code="generation_not_found")
    return generation


def record_generation_event(session: Session, generation: Generation, payload: PlanGenerationEvent) -> None:
    """A generation event (by the payload's type) on the conversation's stream: the plan does not exist yet."""
    payload.conversation_id = generation.conversation_id
    payload.generation_id = generation.id
    record_event(
        session,
        conversation_stream(generation.conversation_id),
        payload.event_type,
        payload,
        trace_id=generation.trace_id,
    )


def set_stage(session: Session, generation: Generation, stage: GenerationStage) -> None:
    generation.status = "running"
    generation.stage = stage
    generation.updated_at = datetime.now(UTC)


def record_usage(session: Session, generation: Generation, usage: CallUsage) -> None:
    """The generation's running totals: tokens and cost so far."""
    generation.input_tokens = usage.input_tokens
    generation.output_tokens = usage.output_tokens
    generation.cost_usd = usage.cost_usd
    generation.updated_at = datetime.now(UTC)


def finish_generation(
    session: Session,
    generation: Generation,
    document: PlanDocument,
    usage: CallUsage,
    settings: Settings,
    *,
    coder_model: str,
) -> Masterplan:
    """Store the plan, its costs and estimate, and the assistant's answer; safe to repeat."""
    if generation.masterplan_id is not None:
        existing = session.get(Masterplan, generation.masterplan_id)
        if existing is not None:
            return existing
    owner = session.get(User, generation.owner_id)
    assert owner is not None
    plan = create_plan(
        session,
        owner,
        document,
        discovery_id=generation.discovery_id,
        conversation_id=generation.conversation_id,
        llm_model=generation.model,
        trace_id=generation.trace_id,
        max_retries=settings.task_max_retries,
        soft_cost_limit_usd=settings.soft_cost_limit_usd,
        hard_cost_limit_usd=settings.hard_cost_limit_usd,
        action="generated",
    )
    plan.generation_cost_usd = usage.cost_usd
    plan.generation_input_tokens = usage.input_tokens
    plan.generation_output_tokens = usage.output_tokens
    estimate = estimate_tasks(
        repository.plan_tasks(session, plan.id), settings.model_copy(update={"model_coder": coder_model})
    )
    plan.estimated_cost_usd = estimate.cost_usd
    record_usage(session, generation, usage)
    generation.status, generation.stage, generation.masterplan_id = "completed", "complete", plan.id
    conversation = conversations.get_conversation(session, generation.owner_id, generation.conversation_id)
    message = conversations.add_message(
        session,
        conversation,
        "assistant",
        plan_summary(plan),
        masterplan_id=plan.id,
        generation_id=generation.id,
    )
    payload = MasterplanGenerationComplete(
        stage="complete",
        tokens=usage.output_tokens,
        input_tokens=usage.input_tokens,
        tasks=plan.total_tasks,
        masterplan_id=plan.id,
        cost_usd=usage.cost_usd,
        message=f"{plan.project_name}: {plan.total_tasks} tasks",
    )
    record_generation_event(session, generation, payload)
    record_event(
        session,
        plan_stream(plan.id),
        payload.event_type,
        payload,
        trace_id=plan.trace_id,
        masterplan_id=plan.id,
    )
    conversations.record_message_complete(session, message, trace_id=generation.trace_id)
    session.flush()
    return plan


def fail_generation(
    session: Session, generation: Generation, reason: str, usage: CallUsage | None = None
) -> None:
    """Store why the generation failed and tell the conversation; safe to repeat."""
    if generation.status in ("failed", "completed"):
        return
    generation.status, generation.error = "failed", reason
    if usage is not None:
        record_usage(session, generation, usage)
    generation.updated_at = datetime.now(UTC)
    conversation = conversations.get_conversation(session, generation.owner_id, generation.conversation_id)
    message = conversations.add_message(
        session,
        conversation,
        "assistant",
        f"I could not generate the masterplan: {reason}",
        generation_id=generation.id,
    )
    payload = MasterplanGenerationFailed(stage="failed", error=reason, message=reason)
    record_generation_event(session, generation, payload)
    conversations.record_message_complete(session, message, trace_id=generation.trace_id)
    session.flush()


def plan_summary(plan: Masterplan) -> str:
    """The assistant's answer when a plan is ready."""
    cost = "unknown" if plan.estimated_cost_usd is None else f"${plan.estimated_cost_usd:.2f}"
    return (
        f'Masterplan "{plan.project_name}" is ready as a draft: {plan.total_phases} phases, '
        f"{plan.total_milestones} milestones, {plan.total_tasks} tasks ({plan.total_subtasks} subtasks). "
        f"Estimated execution cost: {cost}. Plan id: {plan.id}. Review it, then approve or reject it."
    )
