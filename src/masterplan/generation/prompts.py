"""The planner's instructions and prompts: the skeleton call, then one call per milestone."""

from __future__ import annotations

import json

from masterplan.discovery.schemas import DiscoveryOutput
from masterplan.generation.schemas import PlanSkeleton
from masterplan.llm.roles import tagged
from masterplan.plans.schemas import TaskDocument

MAX_CONTEXT_TASKS = 120

PLANNER_INSTRUCTIONS = """\
You are a senior software architect. You plan projects that LLM coding agents will build task by task,
in parallel where dependencies allow. A plan has exactly three phases in this order: setup, core, polish.
Each phase has milestones; each milestone has tasks; complex tasks have subtasks.
Rules every task must follow:
- task_number: global, unique, consecutive across the whole plan;
- target_files: the workspace-relative files the task writes (forward slashes, no absolute paths, no '..');
  one to three files; one task per file unless a dependency orders the tasks that share it;
- depends_on: only numbers of tasks that must finish first (earlier tasks); never a cycle;
- complexity is low, medium, high or critical; high and critical tasks have 3 to 7 subtasks;
- task_type names the kind of work (configuration, implementation, test, documentation, ...).
Prefer small tasks that one agent finishes in one go, and tests next to the code they test.
Answer only through the output tool."""


def discovery_summary(discovery: DiscoveryOutput) -> str:
    """The analysis, compact: what the planner needs from it."""
    data = {
        "domain": discovery.domain,
        "bounded_contexts": [c.name for c in discovery.bounded_contexts],
        "aggregates": [a.name for a in discovery.aggregates],
        "services": [s.name for s in discovery.services],
        "domain_events": [e.name for e in discovery.domain_events],
        "assumptions": discovery.assumptions[:8],
        "risk_factors": discovery.risk_factors[:8],
    }
    return json.dumps(data)


def skeleton_prompt(
    request_text: str, discovery: DiscoveryOutput, examples: list[str], *, small: bool
) -> str:
    """Ask for the project, its phases and milestones, each with the number of tasks it will need."""
    size = (
        "Keep it very small: one milestone per phase and one to three tasks per milestone."
        if small
        else "Size the plan to the project (a small API is usually 10 to 40 tasks); "
        "give each milestone a task_count between 1 and 12."
    )
    parts = [
        "Plan the phases and milestones of this project (no tasks yet).",
        tagged("request", request_text.strip()),
        "Domain analysis:",
        tagged("discovery", discovery_summary(discovery)),
        size,
    ]
    if examples:
        parts += ["Shapes of similar plans:", tagged("examples", "\n".join(examples))]
    return "\n".join(parts)


def task_line(task: TaskDocument) -> str:
    after = f" after {','.join(map(str, task.depends_on))}" if task.depends_on else ""
    return f"#{task.task_number} {task.name} [{', '.join(task.target_files)}]{after}"


def milestone_prompt(
    request_text: str,
    skeleton: PlanSkeleton,
    milestone_number: int,
    first_task_number: int,
    earlier: list[TaskDocument],
    example_tasks: str | None,
) -> str:
    """Ask for one milestone's tasks, numbered after every earlier task, with those tasks as context."""
    outline = [(p, m) for p in skeleton.phases for m in p.milestones]
    phase, milestone = outline[milestone_number - 1]
    context = {
        "milestone_number": milestone_number,
        "milestone_name": milestone.name,
        "phase_type": phase.phase_type,
        "first_task_number": first_task_number,
        "task_count": milestone.task_count,
    }
    milestones = "\n".join(
        f"{'->' if i == milestone_number else '  '} milestone {i} ({p.phase_type}): {m.name}"
        for i, (p, m) in enumerate(outline, start=1)
    )
    shown = earlier[-MAX_CONTEXT_TASKS:]
    omitted = len(earlier) - len(shown)
    earlier_text = "\n".join(task_line(t) for t in shown) or "(none yet)"
    if omitted:
        earlier_text = f"(tasks 1 to {omitted} omitted)\n{earlier_text}"
    last = first_task_number + milestone.task_count - 1
    parts = [
        f"Write the tasks of milestone {milestone_number} {milestone.name!r} ({milestone.description or phase.name}).",
        f"Project: {skeleton.project_name}; stack: {', '.join(skeleton.tech_stack) or 'your choice'}; "
        f"architecture: {skeleton.architecture_style or 'your choice'}.",
        tagged("request", request_text.strip()),
        tagged("milestone_context", json.dumps(context)),
        f"Number the tasks from {first_task_number} (about {milestone.task_count} tasks: {first_task_number} to {last}).",
        "All milestones:",
        milestones,
        "Tasks already planned (depend on them where needed; do not write their files unless you depend on the task):",
        earlier_text,
    ]
    if example_tasks:
        parts += [
            "Example tasks from a similar plan (for the level of detail):",
            tagged("example_tasks", example_tasks),
        ]
    return "\n".join(parts)
