"""The agent that derives acceptance tests from the discovery and the approved plan.

    derive_acceptance_tests(runtime, masterplan_id, *, replace=False, model=None) -> DeriveResult  (blocking)

Called after approval, before execution starts. Keeps existing tests unless `replace`; a model that fails
after its retries leaves the plan without new tests and says why in `error` (execution is not blocked).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import structlog
from pydantic_ai import Agent, ModelRetry, RunContext
from pydantic_ai.exceptions import ModelAPIError, UnexpectedModelBehavior
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from masterplan.acceptance import service
from masterplan.acceptance.rules import spec_problems
from masterplan.acceptance.schemas import DeriveResult
from masterplan.errors import NotFound
from masterplan.llm import ResolvedModel, output_spec, resolve_model, usage_of
from masterplan.llm.roles import AcceptanceTestsOutput, tagged
from masterplan.models import DiscoveryDocument, Masterplan, Milestone, Phase
from masterplan.review.service import add_quality_cost
from masterplan.runtime import Runtime

log = structlog.get_logger(__name__)

OUTPUT_RETRIES = 2
DESCRIPTION_CHARS = 600

INSTRUCTIONS = """\
You write acceptance tests for a software project that LLM coders will build task by task.
Each test checks behaviour a user of the finished work would see, and names the tasks whose files it
needs (covers_tasks); it runs once all of those tasks are completed, after every wave of work.

How tests run: in a copy of the project root, with Python and pytest, no network, no secrets in the
environment, a 60 second timeout and limited memory. A `pytest` test is a whole pytest module that imports
the project's modules from the root (e.g. `from app.models import Todo`) and defines `test_...` functions.
A `command` test is a shell command (sh) whose exit code must equal expected_exit_code.

Rules: use only task numbers of this plan; import only files that the covered tasks write; give each test a
unique name; priority `must` for behaviour the project cannot ship without, `should` for the rest; prefer a
few meaningful tests (about one per milestone) over many trivial ones; never call the network.
"""


@dataclass
class DeriveDeps:
    task_numbers: list[int]
    problems: list[str] = field(default_factory=list)


def derive_agent(resolved: ResolvedModel) -> Agent[DeriveDeps, AcceptanceTestsOutput]:
    agent: Agent[DeriveDeps, AcceptanceTestsOutput] = Agent(
        output_type=output_spec(resolved, AcceptanceTestsOutput),
        instructions=INSTRUCTIONS,
        deps_type=DeriveDeps,
        retries={"output": OUTPUT_RETRIES},
        name="acceptance_tests",
    )

    @agent.output_validator
    def check(ctx: RunContext[DeriveDeps], answer: AcceptanceTestsOutput) -> AcceptanceTestsOutput:
        problems = spec_problems(answer.tests, ctx.deps.task_numbers)
        if problems:
            ctx.deps.problems = problems
            raise ModelRetry(
                "Fix these problems in your list of acceptance tests and answer again with the whole list:\n- "
                + "\n- ".join(problems[:15])
            )
        return answer

    return agent


def plan_with_hierarchy(session: Session, plan_id: uuid.UUID) -> Masterplan:
    """The plan with phases, milestones and tasks loaded (the system acts on any plan)."""
    return session.scalars(
        select(Masterplan)
        .where(Masterplan.id == plan_id)
        .options(selectinload(Masterplan.phases).selectinload(Phase.milestones).selectinload(Milestone.tasks))
    ).one()


def derive_prompt(plan: Masterplan, discovery: DiscoveryDocument | None) -> str:
    """The discovery and the plan's tasks, as the agent reads them."""
    tasks = [
        {
            "task_number": t.task_number,
            "name": t.name,
            "description": t.description[:DESCRIPTION_CHARS],
            "depends_on": t.depends_on,
            "target_files": t.target_files,
        }
        for phase in plan.phases
        for milestone in phase.milestones
        for t in milestone.tasks
    ]
    parts = [
        f"Project: {plan.project_name}\n{plan.description}",
        f"Tech stack: {', '.join(plan.tech_stack) or 'unspecified'}; architecture: {plan.architecture_style or '-'}",
    ]
    if discovery is not None:
        domain = {
            "domain": discovery.domain,
            "aggregates": discovery.aggregates,
            "services": discovery.services,
            "domain_events": discovery.domain_events,
            "assumptions": discovery.assumptions,
        }
        parts.append(tagged("discovery", json.dumps(domain, default=str)))
    milestones = [
        {"milestone": m.number, "name": m.name, "tasks": [t.task_number for t in m.tasks]}
        for p in plan.phases
        for m in p.milestones
    ]
    parts.append(tagged("milestones", json.dumps(milestones)))
    parts.append(tagged("tasks", json.dumps(tasks)))
    parts.append("Write the acceptance tests for this plan.")
    return "\n\n".join(parts)


def derive_acceptance_tests(
    runtime: Runtime,
    masterplan_id: uuid.UUID,
    *,
    replace: bool = False,
    model: ResolvedModel | None = None,
) -> DeriveResult:
    """Ask the model for the plan's acceptance tests and store them (validated); never holds a
    transaction open while the model answers."""
    with runtime.reading() as session:
        plan = session.get(Masterplan, masterplan_id)
        if plan is None:
            raise NotFound(f"masterplan {masterplan_id} not found", code="masterplan_not_found")
        existing = len(service.list_tests(session, masterplan_id))
        if not replace and (existing or service.derived_before(session, masterplan_id)):
            # The tests a user deleted stay deleted: a new run does not derive them again.
            return DeriveResult(created=0, kept_existing=True)
        loaded = plan_with_hierarchy(session, masterplan_id)
        discovery = session.get(DiscoveryDocument, plan.discovery_id) if plan.discovery_id else None
        prompt = derive_prompt(loaded, discovery)
        numbers = service.task_numbers(session, masterplan_id)
    resolved = model or resolve_model("planner", runtime.settings)
    deps = DeriveDeps(task_numbers=numbers)
    try:
        result = derive_agent(resolved).run_sync(
            prompt,
            model=resolved.model,
            deps=deps,
            model_settings=resolved.settings,
        )
    except (UnexpectedModelBehavior, ModelAPIError) as exc:
        detail = "; ".join(deps.problems[:5]) if deps.problems else str(exc)
        log.warning("acceptance_derivation_failed", masterplan_id=str(masterplan_id), error=detail)
        return DeriveResult(created=0, kept_existing=bool(existing), error=detail, model=resolved.name)
    usage = usage_of(resolved, result.usage)
    with runtime.transaction() as session:
        plan = session.get(Masterplan, masterplan_id, with_for_update=True)
        if plan is None:
            raise NotFound(f"masterplan {masterplan_id} not found", code="masterplan_not_found")
        add_quality_cost(plan, usage)
        stored = service.store_derived_tests(
            session, plan, result.output.tests, model=resolved.name, replace=replace
        )
    return DeriveResult(
        created=len(stored), kept_existing=False, model=resolved.name, cost_usd=usage.cost_usd
    )
