"""Rules for creating plans and changing their status. Services never commit; the edge does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from masterplan.errors import Conflict, PlanValidationError
from masterplan.events import plan_stream, record_event
from masterplan.models import Masterplan, MasterplanVersion, Milestone, Phase, Subtask, Task, User
from masterplan.plans import repository
from masterplan.plans.audit import record_history
from masterplan.plans.graph import waves
from masterplan.plans.schemas import ApproveRequest, PlanDocument
from masterplan.plans.transitions import move_plan
from masterplan.plans.validation import validate_plan


def create_plan(
    session: Session,
    owner: User,
    document: PlanDocument,
    *,
    discovery_id: uuid.UUID | None = None,
    conversation_id: uuid.UUID | None = None,
    llm_model: str = "",
    trace_id: str = "",
    max_retries: int = 3,
    soft_cost_limit_usd: float = 50.0,
    hard_cost_limit_usd: float = 100.0,
    client_address: str | None = None,
    action: str = "created",
    require_target_files: bool = True,
) -> Masterplan:
    """Validate the document and store it as a draft plan with its first version."""
    validate_plan(document, require_target_files=require_target_files)
    tasks_doc = document.all_tasks()
    levels = waves({t.task_number: t.depends_on for t in tasks_doc})
    wave_of = {n: i + 1 for i, level in enumerate(levels) for n in level}
    plan = Masterplan(
        id=uuid.uuid4(),
        owner_id=owner.id,
        discovery_id=discovery_id,
        conversation_id=conversation_id,
        project_name=document.project_name,
        description=document.description,
        tech_stack=document.tech_stack,
        architecture_style=document.architecture_style,
        status="draft",
        llm_model=llm_model,
        trace_id=trace_id or uuid.uuid4().hex,
        total_phases=len(document.phases),
        total_milestones=sum(len(p.milestones) for p in document.phases),
        total_tasks=len(tasks_doc),
        total_subtasks=sum(len(t.subtasks) for t in tasks_doc),
        soft_cost_limit_usd=soft_cost_limit_usd,
        hard_cost_limit_usd=hard_cost_limit_usd,
    )
    session.add(plan)
    milestone_number = 0
    for phase_number, phase_doc in enumerate(document.phases, start=1):
        phase = Phase(
            id=uuid.uuid4(),
            masterplan_id=plan.id,
            phase_type=phase_doc.phase_type,
            number=phase_number,
            name=phase_doc.name,
            description=phase_doc.description,
            execution_mode=phase_doc.execution_mode,
            pause_after=phase_doc.pause_after,
        )
        session.add(phase)
        for milestone_doc in phase_doc.milestones:
            milestone_number += 1
            milestone = Milestone(
                id=uuid.uuid4(),
                masterplan_id=plan.id,
                phase_id=phase.id,
                number=milestone_number,
                name=milestone_doc.name,
                description=milestone_doc.description,
                depends_on_milestones=milestone_doc.depends_on_milestones,
            )
            session.add(milestone)
            for task_doc in milestone_doc.tasks:
                task = Task(
                    id=uuid.uuid4(),
                    masterplan_id=plan.id,
                    milestone_id=milestone.id,
                    task_number=task_doc.task_number,
                    name=task_doc.name,
                    description=task_doc.description,
                    complexity=task_doc.complexity,
                    task_type=task_doc.task_type,
                    depends_on=sorted(set(task_doc.depends_on)),
                    target_files=task_doc.target_files,
                    wave=wave_of[task_doc.task_number],
                    max_retries=max_retries,
                )
                session.add(task)
                for sub_number, sub_doc in enumerate(task_doc.subtasks, start=1):
                    session.add(
                        Subtask(
                            task_id=task.id,
                            number=sub_number,
                            name=sub_doc.name,
                            description=sub_doc.description,
                        )
                    )
    session.flush()  # the plan's rows exist before the rows that point at it
    session.add(
        MasterplanVersion(
            masterplan_id=plan.id,
            version=1,
            snapshot=document.model_dump(mode="json"),
            change_summary=action,
            author_id=owner.id,
        )
    )
    record_history(
        session,
        actor=owner,
        action=action,
        masterplan_id=plan.id,
        after={"status": "draft", "total_tasks": plan.total_tasks},
        client_address=client_address,
        trace_id=plan.trace_id,
    )
    session.flush()
    return plan


def document_of(plan: Masterplan) -> PlanDocument:
    """The plan (loaded with its hierarchy) as a document, the shape import and export share."""
    return PlanDocument.model_validate(
        {
            "project_name": plan.project_name,
            "description": plan.description,
            "tech_stack": plan.tech_stack,
            "architecture_style": plan.architecture_style,
            "phases": [
                {
                    "phase_type": p.phase_type,
                    "name": p.name,
                    "description": p.description,
                    "execution_mode": p.execution_mode,
                    "pause_after": p.pause_after,
                    "milestones": [
                        {
                            "name": m.name,
                            "description": m.description,
                            "depends_on_milestones": m.depends_on_milestones,
                            "tasks": [
                                {
                                    "task_number": t.task_number,
                                    "name": t.name,
                                    "description": t.description,
                                    "complexity": t.complexity,
                                    "task_type": t.task_type,
                                    "depends_on": t.depends_on,
                                    "target_files": t.target_files,
                                    "subtasks": [
                                        {"name": s.name, "description": s.description} for s in t.subtasks
                                    ],
                                }
                                for t in m.tasks
                            ],
                        }
                        for m in p.milestones
                    ],
                }
                for p in plan.phases
            ],
        }
    )


def change_plan_status(
    session: Session,
    plan: Masterplan,
    new_status: str,
    *,
    actor: User | None,
    action: str,
    reason: str | None = None,
    client_address: str | None = None,
    extra_after: dict[str, Any] | None = None,
) -> str:
    """Move the plan through the transition table, audit it and record the status event."""
    previous = move_plan(plan, new_status)
    plan.status_reason = reason
    now = datetime.now(UTC)
    plan.updated_at = now
    if new_status == "in_progress" and plan.started_at is None:
        plan.started_at = now
    if new_status in ("completed", "failed", "cancelled"):
        plan.completed_at = now
    record_history(
        session,
        actor=actor,
        action=action,
        masterplan_id=plan.id,
        before={"status": previous},
        after={"status": new_status, **(extra_after or {})},
        reason=reason,
        client_address=client_address,
        trace_id=plan.trace_id,
    )
    record_event(
        session,
        plan_stream(plan.id),
        "masterplan_status_changed",
        {"status": new_status, "previous_status": previous, "reason": reason},
        trace_id=plan.trace_id,
        masterplan_id=plan.id,
    )
    return previous


def approve_plan(
    session: Session,
    user: User,
    plan_id: uuid.UUID,
    request: ApproveRequest,
    client_address: str | None = None,
) -> Masterplan:
    plan = repository.get_plan(session, user, plan_id, for_update=True)
    missing = [t.task_number for t in repository.plan_tasks(session, plan.id) if not t.target_files]
    if plan.status == "draft" and missing:
        raise PlanValidationError([f"tasks {missing} have no target files; fill them in before approval"])
    soft = request.soft_cost_limit_usd or plan.soft_cost_limit_usd
    hard = request.hard_cost_limit_usd or plan.hard_cost_limit_usd
    if soft > hard:
        raise PlanValidationError([f"soft cost limit ${soft} is above the hard limit ${hard}"])
    change_plan_status(
        session,
        plan,
        "approved",
        actor=user,
        action="approve",
        client_address=client_address,
        extra_after={"soft_cost_limit_usd": soft, "hard_cost_limit_usd": hard},
    )
    plan.soft_cost_limit_usd, plan.hard_cost_limit_usd = soft, hard
    if request.execution_mode:
        plan.execution_mode = request.execution_mode
    session.flush()
    return plan


def reject_plan(
    session: Session, user: User, plan_id: uuid.UUID, reason: str | None, client_address: str | None = None
) -> Masterplan:
    plan = repository.get_plan(session, user, plan_id, for_update=True)
    change_plan_status(
        session, plan, "rejected", actor=user, action="reject", reason=reason, client_address=client_address
    )
    session.flush()
    return plan


def delete_plan(session: Session, user: User, plan_id: uuid.UUID, client_address: str | None = None) -> None:
    plan = repository.get_plan(session, user, plan_id, for_update=True)
    if plan.status not in ("draft", "rejected"):
        raise Conflict(
            f"only draft or rejected plans can be deleted; this plan is {plan.status!r}",
            code="invalid_status",
            details={"current_status": plan.status},
        )
    record_history(
        session,
        actor=user,
        action="delete",
        masterplan_id=None,
        target_id=str(plan.id),
        before={"status": plan.status, "project_name": plan.project_name},
        client_address=client_address,
    )
    session.delete(plan)
    session.flush()
