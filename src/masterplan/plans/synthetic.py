"""Deterministic synthetic plans of any size: for the `sim` model, benchmarks and tests."""

from __future__ import annotations

import random

from masterplan.plans.schemas import (
    Complexity,
    MilestoneDocument,
    PhaseDocument,
    PhaseType,
    PlanDocument,
    SubtaskDocument,
    TaskDocument,
)

PHASES: list[tuple[PhaseType, str, float]] = [
    ("setup", "Project setup", 0.15),
    ("core", "Core features", 0.65),
    ("polish", "Polish and release", 0.20),
]
COMPLEXITIES: list[Complexity] = ["low", "medium", "medium", "high", "critical"]
EXTENSIONS = ["py", "py", "py", "json", "toml", "md", "yaml"]


def synthetic_plan(
    n_tasks: int,
    *,
    seed: int = 0,
    project_name: str = "Synthetic project",
    description: str = "A generated plan.",
    tasks_per_milestone: int = 8,
    max_dependencies: int = 3,
    dependency_window: int = 30,
) -> PlanDocument:
    """A valid random DAG plan: every task has its own files, dependencies only point backwards."""
    rng = random.Random(seed)
    counts = [max(1, round(n_tasks * share)) for _, _, share in PHASES]
    counts[1] = max(1, n_tasks - counts[0] - counts[2]) if n_tasks >= 3 else 0
    if n_tasks < 3:
        counts = [n_tasks, 0, 0]
    phases: list[PhaseDocument] = []
    number = 0
    milestone_number = 0
    for (phase_type, phase_name, _), count in zip(PHASES, counts, strict=True):
        if count <= 0:
            continue
        milestones: list[MilestoneDocument] = []
        remaining = count
        while remaining > 0:
            size = min(tasks_per_milestone, remaining)
            remaining -= size
            milestone_number += 1
            tasks: list[TaskDocument] = []
            for _ in range(size):
                number += 1
                window = list(range(max(1, number - dependency_window), number))
                deps = sorted(rng.sample(window, k=min(len(window), rng.randint(0, max_dependencies))))
                ext = rng.choice(EXTENSIONS)
                complexity = rng.choice(COMPLEXITIES)
                n_sub = rng.randint(3, 5) if complexity in ("high", "critical") else rng.randint(0, 2)
                tasks.append(
                    TaskDocument(
                        task_number=number,
                        name=f"Build component {number}",
                        description=f"Implement component {number} of {project_name}.",
                        complexity=complexity,
                        task_type="implementation",
                        depends_on=deps,
                        target_files=[f"src/m{milestone_number}/component_{number}.{ext}"],
                        subtasks=[
                            SubtaskDocument(name=f"Step {i + 1} of component {number}") for i in range(n_sub)
                        ],
                    )
                )
            milestones.append(MilestoneDocument(name=f"Milestone {milestone_number}", tasks=tasks))
        phases.append(PhaseDocument(phase_type=phase_type, name=phase_name, milestones=milestones))
    return PlanDocument(
        project_name=project_name,
        description=description,
        tech_stack=["python"],
        architecture_style="modular monolith",
        phases=phases,
    )
