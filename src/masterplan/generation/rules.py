"""Rules every planner answer must satisfy, each problem named precisely enough for the model to fix it.

Task rules come from the one plan validation (plans.validation); the skeleton and numbering rules are
specific to incremental generation. `repair_*` are mechanical fixes applied only to the weak local model.
"""

from __future__ import annotations

from masterplan.generation.schemas import MAX_MILESTONES, MilestoneOutline, PhaseOutline, PlanSkeleton
from masterplan.plans.paths import path_problem
from masterplan.plans.schemas import TaskDocument
from masterplan.plans.validation import MAX_TASKS, task_problems

PHASE_ORDER = ("setup", "core", "polish")
COMPLEX = ("high", "critical")
MIN_COMPLEX_SUBTASKS = 3
MAX_SUBTASKS = 7
MAX_PROBLEMS_SHOWN = 12


def skeleton_problems(skeleton: PlanSkeleton) -> list[str]:
    """Problems of the phases-and-milestones answer."""
    problems: list[str] = []
    types = [p.phase_type for p in skeleton.phases]
    if tuple(types) != PHASE_ORDER:
        problems.append(
            f"the plan needs exactly three phases in this order: setup, core, polish; got {', '.join(types)}"
        )
    milestones = [m for p in skeleton.phases for m in p.milestones]
    if len(milestones) > MAX_MILESTONES:
        problems.append(f"the plan has {len(milestones)} milestones; at most {MAX_MILESTONES} are allowed")
    total = sum(m.task_count for m in milestones)
    if total > MAX_TASKS:
        problems.append(f"the milestones add up to {total} tasks; at most {MAX_TASKS} are allowed")
    for number, milestone in enumerate(milestones, start=1):
        for dep in milestone.depends_on_milestones:
            if not 1 <= dep < number:
                problems.append(
                    f"milestone {number} ({milestone.name!r}) depends on milestone {dep}, "
                    f"which does not come before it (milestones are numbered 1 to {len(milestones)} in order)"
                )
    return problems


def milestone_problems(
    tasks: list[TaskDocument], earlier: list[TaskDocument], first_number: int
) -> list[str]:
    """Problems of one milestone's tasks, checked together with every earlier task."""
    problems: list[str] = []
    numbers = [t.task_number for t in tasks]
    expected = list(range(first_number, first_number + len(tasks)))
    if numbers != expected:
        problems.append(
            f"task numbers must continue from {first_number} without gaps, in order: expected "
            f"{expected[0]} to {expected[-1]}, got {', '.join(map(str, numbers))}"
        )
    for task in tasks:
        label = f"task {task.task_number} ({task.name!r})"
        count = len(task.subtasks)
        if task.complexity in COMPLEX and not MIN_COMPLEX_SUBTASKS <= count <= MAX_SUBTASKS:
            problems.append(
                f"{label} is {task.complexity} complexity and needs {MIN_COMPLEX_SUBTASKS} to "
                f"{MAX_SUBTASKS} subtasks; it has {count}"
            )
        elif count > MAX_SUBTASKS:
            problems.append(f"{label} has {count} subtasks; at most {MAX_SUBTASKS}")
    problems.extend(task_problems([*earlier, *tasks]))
    return problems


def retry_message(problems: list[str], what: str) -> str:
    """The ModelRetry text: every problem (up to a dozen) and what to send back."""
    shown = problems[:MAX_PROBLEMS_SHOWN]
    more = f" (and {len(problems) - len(shown)} more)" if len(problems) > len(shown) else ""
    listed = "; ".join(shown)
    return f"{listed}{more}. Fix these problems and answer again with the complete {what}."


def repair_skeleton(
    skeleton: PlanSkeleton, *, max_milestones_per_phase: int = 1, max_tasks_per_milestone: int = 2
) -> PlanSkeleton:
    """Coerce a weak model's skeleton into setup/core/polish with backward milestone dependencies."""
    phases = list(skeleton.phases) or [
        PhaseOutline(phase_type="core", name="Core", milestones=[MilestoneOutline(name="Core", task_count=1)])
    ]
    fixed: list[PhaseOutline] = []
    number = 0
    for index, phase_type in enumerate(PHASE_ORDER):
        source = phases[min(index, len(phases) - 1)]
        milestones = []
        for milestone in source.milestones[:max_milestones_per_phase]:
            number += 1
            deps = sorted({d for d in milestone.depends_on_milestones if 1 <= d < number})
            milestones.append(
                milestone.model_copy(
                    update={
                        "depends_on_milestones": deps,
                        "task_count": min(milestone.task_count, max_tasks_per_milestone),
                    }
                )
            )
        name = source.name if source.phase_type == phase_type else phase_type.capitalize()
        fixed.append(
            source.model_copy(update={"phase_type": phase_type, "name": name, "milestones": milestones})
        )
    return skeleton.model_copy(update={"phases": fixed})


def repair_tasks(
    tasks: list[TaskDocument], earlier: list[TaskDocument], first_number: int
) -> list[TaskDocument]:
    """Renumber, keep only backward dependencies, make paths safe and unique, fit subtasks to complexity."""
    known = {t.task_number for t in earlier}
    used = {path for t in earlier for path in t.target_files}
    repaired: list[TaskDocument] = []
    for offset, task in enumerate(tasks):
        number = first_number + offset
        deps = sorted({d for d in task.depends_on if d in known and d < number})
        files: list[str] = []
        for path in task.target_files or [f"src/task_{number}.py"]:
            if path_problem(path) or path in used or path in files:
                path = f"src/task_{number}_{len(files) + 1}.py"
            files.append(path)
        used.update(files)
        subtasks = task.subtasks[:MAX_SUBTASKS]
        complexity = task.complexity
        if complexity in COMPLEX and len(subtasks) < MIN_COMPLEX_SUBTASKS:
            complexity = "medium"
        repaired.append(
            task.model_copy(
                update={
                    "task_number": number,
                    "depends_on": deps,
                    "target_files": files,
                    "subtasks": subtasks,
                    "complexity": complexity,
                }
            )
        )
        known.add(number)
    return repaired
