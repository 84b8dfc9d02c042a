"""Editing draft plans: apply operations, validate, sync rows (keeping task ids), store a new version."""

from __future__ import annotations

import uuid

from pydantic import BaseModel
from sqlalchemy.orm import Session

from masterplan.errors import Conflict
from masterplan.models import Masterplan, MasterplanVersion, Milestone, Phase, Subtask, Task, User
from masterplan.plans import repository
from masterplan.plans.audit import record_history
from masterplan.plans.editing import apply_operations
from masterplan.plans.graph import waves
from masterplan.plans.schemas import PlanDocument
from masterplan.plans.service import document_of
from masterplan.plans.validation import validate_plan


def ensure_draft(plan: Masterplan) -> None:
    if plan.status != "draft":
        raise Conflict(
            f"only draft plans can be edited; this plan is {plan.status!r}",
            code="plan_not_editable",
            details={"current_status": plan.status},
        )


def edit_plan(
    session: Session,
    user: User,
    plan_id: uuid.UUID,
    operations: list[BaseModel],
    *,
    summary: str = "",
    client_address: str | None = None,
    action: str = "edit",
) -> Masterplan:
    """Apply edits to a draft in one validated step; a refused edit leaves the plan and its versions unchanged."""
    plan = repository.get_plan(session, user, plan_id, hierarchy=True, for_update=True)
    ensure_draft(plan)
    before = document_of(plan)
    after = apply_operations(before, operations)
    validate_plan(after, require_target_files=False)
    sync_rows(session, plan, after)
    plan.version += 1
    ops = [op.model_dump().get("op") for op in operations]
    text = summary or ", ".join(str(o) for o in ops)
    session.add(
        MasterplanVersion(
            masterplan_id=plan.id,
            version=plan.version,
            snapshot=after.model_dump(mode="json"),
            change_summary=text,
            author_id=user.id,
        )
    )
    record_history(
        session,
        actor=user,
        action=action,
        masterplan_id=plan.id,
        before={"version": plan.version - 1},
        after={"version": plan.version, "operations": ops},
        reason=summary or None,
        client_address=client_address,
        trace_id=plan.trace_id,
    )
    session.flush()
    return plan


def sync_rows(session: Session, plan: Masterplan, doc: PlanDocument) -> None:
    """Make the plan's rows match the document; tasks keep their ids by task number."""
    tasks_by_number = {t.task_number: t for p in plan.phases for m in p.milestones for t in m.tasks}
    old_phases = list(plan.phases)
    old_milestones = [m for p in old_phases for m in p.milestones]
    levels = waves({t.task_number: t.depends_on for t in doc.all_tasks()})
    wave_of = {n: i + 1 for i, level in enumerate(levels) for n in level}

    # Free the unique (plan, number) slots before renumbering.
    for offset, phase in enumerate(old_phases, start=1):
        phase.number = 10_000 + offset
    session.flush()

    kept_tasks: set[int] = set()
    milestone_number = 0
    for phase_number, phase_doc in enumerate(doc.phases, start=1):
        if phase_number <= len(old_phases):
            phase = old_phases[phase_number - 1]
        else:
            phase = Phase(
                id=uuid.uuid4(), masterplan_id=plan.id, number=phase_number, phase_type=phase_doc.phase_type
            )
            session.add(phase)
        phase.number = phase_number
        phase.phase_type = phase_doc.phase_type
        phase.name, phase.description = phase_doc.name, phase_doc.description
        phase.execution_mode, phase.pause_after = phase_doc.execution_mode, phase_doc.pause_after
        for milestone_doc in phase_doc.milestones:
            milestone_number += 1
            if milestone_number <= len(old_milestones):
                milestone = old_milestones[milestone_number - 1]
            else:
                milestone = Milestone(
                    id=uuid.uuid4(), masterplan_id=plan.id, number=milestone_number, name=""
                )
                session.add(milestone)
            milestone.phase_id = phase.id
            milestone.number = milestone_number
            milestone.name, milestone.description = milestone_doc.name, milestone_doc.description
            milestone.depends_on_milestones = milestone_doc.depends_on_milestones
            for task_doc in milestone_doc.tasks:
                kept_tasks.add(task_doc.task_number)
                task = tasks_by_number.get(task_doc.task_number)
                if task is None:
                    task = Task(
                        id=uuid.uuid4(),
                        masterplan_id=plan.id,
                        task_number=task_doc.task_number,
                        name="",
                        max_retries=3,
                    )
                    session.add(task)
                    subtasks: list[Subtask] = []
                else:
                    subtasks = list(task.subtasks)
                task.milestone_id = milestone.id
                task.name, task.description = task_doc.name, task_doc.description
                task.complexity, task.task_type = task_doc.complexity, task_doc.task_type
                task.depends_on = sorted(set(task_doc.depends_on))
                task.target_files = list(task_doc.target_files)
                task.wave = wave_of[task_doc.task_number]
                for sub in subtasks:
                    session.delete(sub)
                for number, sub_doc in enumerate(task_doc.subtasks, start=1):
                    session.add(
                        Subtask(
                            task_id=task.id, number=number, name=sub_doc.name, description=sub_doc.description
                        )
                    )
    session.flush()
    # Children were re-parented by key; stale loaded collections must not cascade deletes onto them.
    for milestone in old_milestones:
        session.expire(milestone, ["tasks"])
    for phase in old_phases:
        session.expire(phase, ["milestones"])
    for number, task in tasks_by_number.items():
        if number not in kept_tasks:
            session.delete(task)
    for milestone in old_milestones[milestone_number:]:
        session.delete(milestone)
    for phase in old_phases[len(doc.phases) :]:
        session.delete(phase)
    tasks = doc.all_tasks()
    plan.project_name, plan.description = doc.project_name, doc.description
    plan.tech_stack, plan.architecture_style = doc.tech_stack, doc.architecture_style
    plan.total_phases = len(doc.phases)
    plan.total_milestones = milestone_number
    plan.total_tasks = len(tasks)
    plan.total_subtasks = sum(len(t.subtasks) for t in tasks)
    session.flush()
    session.expire_all()  # the hierarchy is re-read with its new order on the next load
