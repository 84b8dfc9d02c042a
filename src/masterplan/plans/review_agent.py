"""LLM review of a draft plan: suggestions as typed edit operations, stored as iterations, applied selectively.

review_plan(runtime, user, plan_id, review_type, scope, target_id, model=None) -> PlanReviewIteration
apply_suggestions(session, user, plan_id, iteration_id, indices, client_address=None) -> PlanReviewIteration
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Literal

from pydantic import TypeAdapter
from pydantic_ai import Agent, ModelRetry, RunContext
from pydantic_ai.exceptions import ModelAPIError, UnexpectedModelBehavior
from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.errors import Conflict, DomainError, NotFound, PlanValidationError
from masterplan.llm import ResolvedModel, output_spec, resolve_model, usage_of
from masterplan.llm.roles import PlanReviewOutput, tagged
from masterplan.models import Masterplan, PlanReviewIteration, User
from masterplan.plans import repository
from masterplan.plans.edit_service import edit_plan, ensure_draft
from masterplan.plans.editing import EditOperation, apply_operations
from masterplan.plans.schemas import PlanDocument
from masterplan.plans.service import document_of
from masterplan.plans.validation import plan_problems
from masterplan.review.service import add_quality_cost
from masterplan.runtime import Runtime

ReviewType = Literal["refine_descriptions", "add_missing", "optimize_order", "break_down"]
ReviewScope = Literal["plan", "phase", "milestone", "task"]

OUTPUT_RETRIES = 2
OPERATION = TypeAdapter(EditOperation)

INSTRUCTIONS = """\
You review a draft software plan that LLM coders will build task by task, and suggest concrete edits.
Each suggestion is one edit operation on the plan (update_task, add_task, add_subtask, move_task, ...)
with a short rationale. Use only phase, milestone and task numbers that exist in the plan; every task needs
target files; never create a dependency cycle; two tasks writing the same file must be ordered by a
dependency. Each suggestion must apply on its own to the plan as given. Suggest at most ten, best first.

Review types: refine_descriptions (make names and descriptions precise: what to build, when it is done);
add_missing (tasks or subtasks the plan forgot: tests, configuration, error handling); optimize_order
(dependencies that are missing or needlessly serialise work); break_down (split large tasks into
subtasks or smaller tasks). Stay within the requested scope.
"""


class ReviewFailed(DomainError):
    """The reviewer model gave no usable answer after its retries."""

    status_code = 502
    code = "review_failed"


@dataclass
class ReviewDeps:
    document: PlanDocument
    problems: list[str] = field(default_factory=list)


def suggestion_problems(document: PlanDocument, answer: PlanReviewOutput) -> list[str]:
    """Why each suggestion cannot apply to the plan on its own; empty when all of them can."""
    problems: list[str] = []
    for index, suggestion in enumerate(answer.suggestions):
        label = f"suggestion {index} ({suggestion.operation.op})"
        try:
            after = apply_operations(document, [suggestion.operation])
        except PlanValidationError as exc:
            problems += [f"{label}: {p.split('): ', 1)[-1]}" for p in exc.problems]
            continue
        problems += [f"{label}: {p}" for p in plan_problems(after, require_target_files=False)]
    return problems


def review_agent(resolved: ResolvedModel) -> Agent[ReviewDeps, PlanReviewOutput]:
    agent: Agent[ReviewDeps, PlanReviewOutput] = Agent(
        output_type=output_spec(resolved, PlanReviewOutput),
        instructions=INSTRUCTIONS,
        deps_type=ReviewDeps,
        retries={"output": OUTPUT_RETRIES},
        name="plan_review",
    )

    @agent.output_validator
    def check(ctx: RunContext[ReviewDeps], answer: PlanReviewOutput) -> PlanReviewOutput:
        problems = suggestion_problems(ctx.deps.document, answer)
        if problems:
            ctx.deps.problems = problems
            raise ModelRetry(
                "These suggestions cannot apply to the plan; fix or drop them and answer again with the "
                "whole list:\n- " + "\n- ".join(problems[:15])
            )
        return answer

    return agent


def check_target(document: PlanDocument, scope: ReviewScope, target_id: str | None) -> None:
    """A phase, milestone or task scope names an existing number; the plan scope names nothing."""
    if scope == "plan":
        return
    counts = {
        "phase": len(document.phases),
        "milestone": sum(len(p.milestones) for p in document.phases),
    }
    tasks = {t.task_number for t in document.all_tasks()}
    number = int(target_id) if target_id and target_id.isdigit() else None
    exists = number is not None and (number in tasks if scope == "task" else 1 <= number <= counts[scope])
    if not exists:
        raise PlanValidationError(
            [f"target_id {target_id!r} is not a {scope} number of this plan (scope {scope} needs one)"]
        )


def review_prompt(
    document: PlanDocument, review_type: ReviewType, scope: ReviewScope, target: str | None
) -> str:
    """The plan document and the requested review, as the agent reads them."""
    request = {"type": review_type, "scope": scope, "target_id": target}
    where = "the whole plan" if scope == "plan" else f"{scope} {target}"
    return "\n\n".join(
        [
            tagged("plan", document.model_dump_json()),
            tagged("review", json.dumps(request)),
            f"Review {where} ({review_type}) and answer with your suggestions.",
        ]
    )


def draft_document(session: Session, user: User, plan_id: uuid.UUID) -> PlanDocument:
    """The document of a draft the user may see; 404 for an unknown or foreign plan, 409 if not a draft."""
    plan = repository.get_plan(session, user, plan_id, hierarchy=True)
    ensure_draft(plan)
    return document_of(plan)


def review_plan(
    runtime: Runtime,
    plan_id: uuid.UUID,
    document: PlanDocument,
    review_type: ReviewType,
    scope: ReviewScope,
    target_id: str | None = None,
    *,
    model: ResolvedModel | None = None,
) -> PlanReviewIteration:
    """Ask the reviewer for suggestions on the draft's document and store them as an open iteration;
    never holds a transaction open while the model answers."""
    check_target(document, scope, target_id)
    resolved = model or resolve_model("reviewer", runtime.settings)
    deps = ReviewDeps(document=document)
    try:
        result = review_agent(resolved).run_sync(
            review_prompt(document, review_type, scope, target_id),
            model=resolved.model,
            deps=deps,
            model_settings=resolved.settings,
        )
    except (UnexpectedModelBehavior, ModelAPIError) as exc:
        detail = "; ".join(deps.problems[:5]) if deps.problems else str(exc)
        raise ReviewFailed(
            f"the reviewer gave no usable suggestions: {detail}", details=deps.problems
        ) from None
    usage = usage_of(resolved, result.usage)
    with runtime.transaction() as session:
        locked = session.get(Masterplan, plan_id, with_for_update=True)
        if locked is None:
            raise NotFound(f"masterplan {plan_id} not found", code="masterplan_not_found")
        ensure_draft(locked)  # approved while the model answered: its suggestions no longer apply
        add_quality_cost(locked, usage)
        iteration = PlanReviewIteration(
            masterplan_id=plan_id,
            review_type=review_type,
            scope=scope,
            target_id=target_id,
            status="open",
            suggestions=[s.model_dump(mode="json") for s in result.output.suggestions],
            applied_indices=[],
        )
        session.add(iteration)
        session.flush()
        session.refresh(iteration)
        session.expunge(iteration)
    return iteration


def list_iterations(session: Session, user: User, plan_id: uuid.UUID) -> list[PlanReviewIteration]:
    """The plan's review iterations, oldest first."""
    repository.get_plan(session, user, plan_id)
    return list(
        session.scalars(
            select(PlanReviewIteration)
            .where(PlanReviewIteration.masterplan_id == plan_id)
            .order_by(PlanReviewIteration.created_at, PlanReviewIteration.id)
        )
    )


def apply_suggestions(
    session: Session,
    user: User,
    plan_id: uuid.UUID,
    iteration_id: uuid.UUID,
    indices: list[int],
    *,
    client_address: str | None = None,
) -> PlanReviewIteration:
    """Apply the chosen suggestions as one validated edit (a new version); a refused set changes nothing."""
    plan = repository.get_plan(session, user, plan_id)
    ensure_draft(plan)
    iteration = session.get(PlanReviewIteration, iteration_id, with_for_update=True)
    if iteration is None or iteration.masterplan_id != plan_id:
        raise NotFound(f"review iteration {iteration_id} not found", code="review_iteration_not_found")
    if iteration.status == "dismissed":
        raise Conflict("this review iteration was dismissed", code="review_iteration_dismissed")
    count = len(iteration.suggestions)
    chosen = sorted(set(indices))
    wrong = [i for i in chosen if not 0 <= i < count]
    if wrong:
        raise PlanValidationError(
            [f"indices {wrong} do not exist; this iteration has suggestions 0..{count - 1}"]
        )
    again = [i for i in chosen if i in iteration.applied_indices]
    if again:
        raise PlanValidationError([f"suggestions {again} were already applied"])
    operations = [OPERATION.validate_python(iteration.suggestions[i]["operation"]) for i in chosen]
    edit_plan(
        session,
        user,
        plan_id,
        list(operations),
        summary=f"{iteration.review_type} review: suggestions {', '.join(map(str, chosen))}",
        client_address=client_address,
        action="apply_review_suggestions",
    )
    iteration.applied_indices = sorted({*iteration.applied_indices, *chosen})
    iteration.status = "applied"
    session.flush()
    return iteration
