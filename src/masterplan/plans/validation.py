"""Plan validation: the one set of rules every path that creates or changes a plan goes through."""

from __future__ import annotations

from collections import defaultdict

from masterplan.errors import PlanValidationError
from masterplan.plans.graph import Reachability, find_cycle
from masterplan.plans.paths import path_problem
from masterplan.plans.schemas import PlanDocument, TaskDocument

MAX_TASKS = 5000
MAX_TARGET_FILES = 100


def plan_problems(plan: PlanDocument, *, require_target_files: bool = True) -> list[str]:
    """Every rule the plan breaks, each naming the offending tasks; empty when the plan is valid."""
    return task_problems(plan.all_tasks(), require_target_files=require_target_files)


def task_problems(tasks: list[TaskDocument], *, require_target_files: bool = True) -> list[str]:
    problems: list[str] = []
    if len(tasks) > MAX_TASKS:
        return [f"the plan has {len(tasks)} tasks; at most {MAX_TASKS} are allowed"]

    by_number: dict[int, TaskDocument] = {}
    for task in tasks:
        if task.task_number in by_number:
            problems.append(f"task number {task.task_number} is used by more than one task")
        by_number[task.task_number] = task

    for task in tasks:
        label = f"task {task.task_number} ({task.name!r})"
        for dep in task.depends_on:
            if dep == task.task_number:
                problems.append(f"{label} depends on itself")
            elif dep not in by_number:
                problems.append(f"{label} depends on unknown task {dep}")
        if not task.target_files and require_target_files:
            problems.append(f"{label} has no target files")
        if len(task.target_files) > MAX_TARGET_FILES:
            problems.append(f"{label} has {len(task.target_files)} target files; at most {MAX_TARGET_FILES}")
        if len(set(task.target_files)) != len(task.target_files):
            problems.append(f"{label} lists a target file twice")
        for path in task.target_files:
            reason = path_problem(path)
            if reason:
                problems.append(f"{label} target file {path!r} {reason}")
    if problems:
        return problems

    graph = {t.task_number: [d for d in t.depends_on if d in by_number] for t in tasks}
    cycle = find_cycle(graph)
    if cycle:
        return [f"dependency cycle: {' -> '.join(f'task {n}' for n in cycle)}"]

    writers: dict[str, list[int]] = defaultdict(list)
    for task in tasks:
        for path in task.target_files:
            writers[path].append(task.task_number)
    shared = {path: nums for path, nums in writers.items() if len(nums) > 1}
    if shared:
        reach = Reachability(graph)
        for path, nums in sorted(shared.items()):
            for i, a in enumerate(nums):
                for b in nums[i + 1 :]:
                    if not reach.ordered(a, b):
                        problems.append(
                            f"tasks {a} and {b} both write {path!r} but no dependency orders them; "
                            f"make one depend on the other"
                        )
    return problems


def validate_plan(plan: PlanDocument, *, require_target_files: bool = True) -> None:
    """Raise PlanValidationError listing every problem, or return when the plan is valid."""
    problems = plan_problems(plan, require_target_files=require_target_files)
    if problems:
        raise PlanValidationError(problems)
