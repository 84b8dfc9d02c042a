"""Export a plan as Markdown (JSON export is the plan document itself)."""

from __future__ import annotations

from masterplan.plans.schemas import PlanDocument


def to_markdown(doc: PlanDocument, status: str | None = None) -> str:
    """A readable checklist: phases, milestones, tasks with files, dependencies and subtasks."""
    lines = [f"# {doc.project_name}", ""]
    if status:
        lines += [f"Status: {status}", ""]
    if doc.description:
        lines += [doc.description, ""]
    if doc.tech_stack:
        lines += [f"Tech stack: {', '.join(doc.tech_stack)}", ""]
    if doc.architecture_style:
        lines += [f"Architecture: {doc.architecture_style}", ""]
    milestone_number = 0
    for phase_number, phase in enumerate(doc.phases, start=1):
        lines += [f"## Phase {phase_number}: {phase.name} ({phase.phase_type})", ""]
        for milestone in phase.milestones:
            milestone_number += 1
            lines += [f"### Milestone {milestone_number}: {milestone.name}", ""]
            for task in milestone.tasks:
                deps = f" (after {', '.join(f'#{d}' for d in task.depends_on)})" if task.depends_on else ""
                lines.append(f"- [ ] **#{task.task_number} {task.name}** [{task.complexity}]{deps}")
                if task.description:
                    lines.append(f"  {task.description.splitlines()[0]}")
                if task.target_files:
                    lines.append(f"  Files: {', '.join(f'`{f}`' for f in task.target_files)}")
                for sub in task.subtasks:
                    lines.append(f"  - [ ] {sub.name}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
