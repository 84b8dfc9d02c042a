"""The planner calls without the database: the sim at 1,000 tasks, prompts and retries."""

from __future__ import annotations

from masterplan.config import Settings
from masterplan.discovery.agent import run_discovery
from masterplan.generation.planner import assemble_plan, plan_milestone, plan_skeleton
from masterplan.generation.prompts import milestone_prompt, skeleton_prompt
from masterplan.llm import resolve_model
from masterplan.plans.schemas import TaskDocument
from masterplan.plans.validation import plan_problems

REQUEST = "an inventory service with warehouses, stock movements and reports"


async def test_sim_plans_1000_tasks_incrementally(settings: Settings) -> None:
    resolved = resolve_model("planner", settings, override="sim:tasks=1000,seed=11")
    discovery, _ = await run_discovery(REQUEST, resolved)
    skeleton, usage = await plan_skeleton(skeleton_prompt(REQUEST, discovery, [], small=False), resolved)
    milestones = [m for p in skeleton.phases for m in p.milestones]
    earlier: list[TaskDocument] = []
    groups: list[list[TaskDocument]] = []
    largest_answer = 0
    for number in range(1, len(milestones) + 1):
        prompt = milestone_prompt(REQUEST, skeleton, number, len(earlier) + 1, earlier, None)
        tasks, call = await plan_milestone(
            prompt, resolved, milestone_number=number, earlier=earlier, first_number=len(earlier) + 1
        )
        largest_answer = max(largest_answer, call.output_tokens)
        usage = usage + call
        groups.append(tasks)
        earlier = earlier + tasks

    document = assemble_plan(skeleton, groups)
    assert len(document.all_tasks()) == 1000
    assert plan_problems(document) == []
    assert [p.phase_type for p in document.phases] == ["setup", "core", "polish"]
    assert largest_answer < 2000  # each answer is one milestone, never the whole plan
    assert usage.requests == len(milestones) + 1
    assert usage.cost_usd is not None and usage.cost_usd > 0


async def test_discovery_is_derived_from_the_request(settings: Settings) -> None:
    resolved = resolve_model("discovery", settings, override="sim")
    discovery, usage = await run_discovery(REQUEST, resolved)
    assert "Inventory" in discovery.domain
    assert any("Warehouses" in c.name for c in discovery.bounded_contexts)
    assert usage.input_tokens > 0 and usage.output_tokens > 0


def test_milestone_prompt_carries_numbering_and_earlier_tasks() -> None:
    from masterplan.generation.schemas import MilestoneOutline, PhaseOutline, PlanSkeleton

    skeleton = PlanSkeleton(
        project_name="Inventory",
        phases=[
            PhaseOutline(phase_type=t, name=t, milestones=[MilestoneOutline(name=f"{t} work", task_count=3)])  # type: ignore[arg-type]
            for t in ("setup", "core", "polish")
        ],
    )
    earlier = [TaskDocument(task_number=n, name=f"T{n}", target_files=[f"a/{n}.py"]) for n in (1, 2, 3)]
    prompt = milestone_prompt(REQUEST, skeleton, 2, 4, earlier, None)
    assert "Number the tasks from 4" in prompt
    assert "#3 T3 [a/3.py]" in prompt
    assert '"first_task_number": 4' in prompt
    assert "-> milestone 2 (core): core work" in prompt
