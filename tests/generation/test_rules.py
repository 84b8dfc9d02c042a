"""Planner answer rules, the weak-model repairs, and plan assembly."""

from __future__ import annotations

from masterplan.generation.rules import (
    milestone_problems,
    repair_skeleton,
    repair_tasks,
    retry_message,
    skeleton_problems,
)
from masterplan.generation.schemas import MilestoneOutline, PhaseOutline, PlanSkeleton
from masterplan.plans.schemas import SubtaskDocument, TaskDocument
from masterplan.plans.validation import task_problems


def outline(*phase_types: str, deps: list[int] | None = None) -> PlanSkeleton:
    phases = [
        PhaseOutline(
            phase_type=t,  # type: ignore[arg-type]
            name=t,
            milestones=[MilestoneOutline(name=f"m{i}", task_count=2, depends_on_milestones=deps or [])],
        )
        for i, t in enumerate(phase_types, start=1)
    ]
    return PlanSkeleton(project_name="p", phases=phases)


def task(
    number: int, *, deps: list[int] | None = None, files: list[str] | None = None, **extra: object
) -> TaskDocument:
    return TaskDocument(
        task_number=number,
        name=f"t{number}",
        depends_on=deps or [],
        target_files=files if files is not None else [f"src/t{number}.py"],
        **extra,  # type: ignore[arg-type]
    )


def test_skeleton_needs_setup_core_polish_in_order() -> None:
    assert skeleton_problems(outline("setup", "core", "polish")) == []
    problems = skeleton_problems(outline("core", "setup", "polish"))
    assert problems == [
        "the plan needs exactly three phases in this order: setup, core, polish; got core, setup, polish"
    ]


def test_skeleton_milestones_only_depend_on_earlier_ones() -> None:
    problems = skeleton_problems(outline("setup", "core", "polish", deps=[2]))
    assert problems[0].startswith("milestone 1 ('m1') depends on milestone 2, which does not come before it")
    assert len(problems) == 2  # milestones 1 and 2; milestone 3 may depend on 2


def test_milestone_numbering_continues_without_gaps() -> None:
    earlier = [task(1), task(2)]
    assert milestone_problems([task(3), task(4, deps=[3])], earlier, 3) == []
    problems = milestone_problems([task(4), task(5)], earlier, 3)
    assert problems == ["task numbers must continue from 3 without gaps, in order: expected 3 to 4, got 4, 5"]


def test_complex_tasks_need_three_to_seven_subtasks() -> None:
    three = [SubtaskDocument(name=f"s{i}") for i in range(3)]
    ok = task(1, complexity="high", subtasks=three)
    bad = task(2, complexity="critical", subtasks=three[:1])
    problems = milestone_problems([ok, bad], [], 1)
    assert problems == ["task 2 ('t2') is critical complexity and needs 3 to 7 subtasks; it has 1"]


def test_milestone_rules_include_the_plan_validation_over_earlier_tasks() -> None:
    earlier = [task(1, files=["src/shared.py"])]
    problems = milestone_problems([task(2, files=["src/shared.py"]), task(3, deps=[42])], earlier, 2)
    assert "task 3 ('t3') depends on unknown task 42" in problems


def test_retry_message_lists_problems_and_asks_for_the_whole_answer() -> None:
    message = retry_message([f"problem {i}" for i in range(15)], "list of tasks")
    assert message.startswith("problem 0; problem 1;")
    assert "(and 3 more)" in message
    assert message.endswith("answer again with the complete list of tasks.")


def test_repairs_make_a_weak_models_answer_valid() -> None:
    skeleton = repair_skeleton(outline("core", "core", deps=[5]))
    assert [p.phase_type for p in skeleton.phases] == ["setup", "core", "polish"]
    assert skeleton_problems(skeleton) == []

    earlier = [task(1, files=["src/a.py"])]
    messy = [
        task(7, deps=[9, 1], files=["../x.py", "src/a.py"], complexity="high"),
        task(7, deps=[7], files=["src/a.py"]),
    ]
    repaired = repair_tasks(messy, earlier, 2)
    assert [t.task_number for t in repaired] == [2, 3]
    assert repaired[0].depends_on == [1]
    assert repaired[0].complexity == "medium"
    assert len({f for t in [*earlier, *repaired] for f in t.target_files}) == 4
    assert task_problems([*earlier, *repaired]) == []
    assert milestone_problems(repaired, earlier, 2) == []
