"""The planner agents: a skeleton call, then a call per milestone; every answer validated, a violation
sent back to the model as a ModelRetry naming the exact problem."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic_ai import Agent, ModelRetry, RunContext
from pydantic_ai.exceptions import ModelAPIError, UnexpectedModelBehavior

from masterplan.generation.rules import (
    milestone_problems,
    repair_skeleton,
    repair_tasks,
    retry_message,
    skeleton_problems,
)
from masterplan.generation.schemas import MilestoneTasks, PhaseOutline, PlanSkeleton
from masterplan.llm import CallUsage, ResolvedModel, output_spec, run_agent, usage_of
from masterplan.llm.errors import model_failure_reason
from masterplan.llm.run import Progress
from masterplan.plans.schemas import MilestoneDocument, PhaseDocument, PlanDocument, TaskDocument

from .prompts import PLANNER_INSTRUCTIONS

OUTPUT_RETRIES = 3


class GenerationFailed(Exception):
    """Generation cannot finish; the message is the reason stored on the generation."""


@dataclass
class SkeletonDeps:
    weak: bool = False
    problems: list[str] = field(default_factory=list)


@dataclass
class MilestoneDeps:
    earlier: list[TaskDocument]
    first_number: int
    weak: bool = False
    problems: list[str] = field(default_factory=list)


def skeleton_agent(resolved: ResolvedModel) -> Agent[SkeletonDeps, PlanSkeleton]:
    agent: Agent[SkeletonDeps, PlanSkeleton] = Agent(
        output_type=output_spec(resolved, PlanSkeleton),
        instructions=PLANNER_INSTRUCTIONS,
        deps_type=SkeletonDeps,
        retries={"output": OUTPUT_RETRIES},
        name="planner_skeleton",
    )

    @agent.output_validator
    def check(ctx: RunContext[SkeletonDeps], skeleton: PlanSkeleton) -> PlanSkeleton:
        if ctx.deps.weak:
            skeleton = repair_skeleton(skeleton)
        problems = skeleton_problems(skeleton)
        if problems:
            ctx.deps.problems = problems
            raise ModelRetry(retry_message(problems, "plan skeleton"))
        return skeleton

    return agent


def milestone_agent(resolved: ResolvedModel) -> Agent[MilestoneDeps, MilestoneTasks]:
    agent: Agent[MilestoneDeps, MilestoneTasks] = Agent(
        output_type=output_spec(resolved, MilestoneTasks),
        instructions=PLANNER_INSTRUCTIONS,
        deps_type=MilestoneDeps,
        retries={"output": OUTPUT_RETRIES},
        name="planner_milestone",
    )

    @agent.output_validator
    def check(ctx: RunContext[MilestoneDeps], answer: MilestoneTasks) -> MilestoneTasks:
        deps = ctx.deps
        tasks = answer.tasks
        if deps.weak:
            tasks = repair_tasks(tasks, deps.earlier, deps.first_number)
        problems = milestone_problems(tasks, deps.earlier, deps.first_number)
        if problems:
            deps.problems = problems
            raise ModelRetry(retry_message(problems, "list of tasks for this milestone"))
        return MilestoneTasks(tasks=tasks)

    return agent


def _failure(what: str, exc: Exception, problems: list[str]) -> GenerationFailed:
    return GenerationFailed(model_failure_reason(what, exc, problems, OUTPUT_RETRIES + 1))


async def plan_skeleton(
    prompt: str, resolved: ResolvedModel, *, on_progress: Progress | None = None
) -> tuple[PlanSkeleton, CallUsage]:
    """The validated skeleton and the calls' usage; GenerationFailed after the retry budget."""
    deps = SkeletonDeps(weak=resolved.weak)
    try:
        result = await run_agent(
            skeleton_agent(resolved), prompt, resolved, deps=deps, on_progress=on_progress
        )
    except (UnexpectedModelBehavior, ModelAPIError) as exc:
        raise _failure("planning the phases and milestones", exc, deps.problems) from None
    return result.output, usage_of(resolved, result.usage)


async def plan_milestone(
    prompt: str,
    resolved: ResolvedModel,
    *,
    milestone_number: int,
    earlier: list[TaskDocument],
    first_number: int,
    on_progress: Progress | None = None,
) -> tuple[list[TaskDocument], CallUsage]:
    """One milestone's validated tasks and the calls' usage; GenerationFailed after the retry budget."""
    deps = MilestoneDeps(earlier=earlier, first_number=first_number, weak=resolved.weak)
    try:
        result = await run_agent(
            milestone_agent(resolved), prompt, resolved, deps=deps, on_progress=on_progress
        )
    except (UnexpectedModelBehavior, ModelAPIError) as exc:
        raise _failure(f"planning the tasks of milestone {milestone_number}", exc, deps.problems) from None
    return result.output.tasks, usage_of(resolved, result.usage)


def assemble_plan(skeleton: PlanSkeleton, tasks_by_milestone: list[list[TaskDocument]]) -> PlanDocument:
    """The whole plan document from the skeleton and each milestone's tasks (in skeleton order)."""
    phases: list[PhaseDocument] = []
    index = 0
    for outline in skeleton.phases:
        milestones: list[MilestoneDocument] = []
        for milestone in outline.milestones:
            milestones.append(
                MilestoneDocument(
                    name=milestone.name,
                    description=milestone.description,
                    depends_on_milestones=milestone.depends_on_milestones,
                    tasks=tasks_by_milestone[index],
                )
            )
            index += 1
        phases.append(_phase(outline, milestones))
    return PlanDocument(
        project_name=skeleton.project_name,
        description=skeleton.description,
        tech_stack=skeleton.tech_stack,
        architecture_style=skeleton.architecture_style,
        phases=phases,
    )


def _phase(outline: PhaseOutline, milestones: list[MilestoneDocument]) -> PhaseDocument:
    return PhaseDocument(
        phase_type=outline.phase_type,
        name=outline.name,
        description=outline.description,
        milestones=milestones,
    )
