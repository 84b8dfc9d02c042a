"""Rich renderings of plans: trees with status colours, tables, estimates."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.tree import Tree

from masterplan.models import Masterplan
from masterplan.plans.schemas import Estimate

STATUS_STYLE = {
    "draft": "white",
    "approved": "cyan",
    "rejected": "red",
    "in_progress": "yellow",
    "paused": "magenta",
    "completed": "green",
    "failed": "red",
    "cancelled": "bright_black",
    "pending": "bright_black",
    "ready": "blue",
    "validating": "yellow",
    "blocked": "dark_orange",
    "skipped": "bright_black",
}
PHASE_STYLE = {"setup": "blue", "core": "magenta", "polish": "green"}


def status_text(status: str) -> str:
    style = STATUS_STYLE.get(status, "white")
    return f"[{style}]{status}[/{style}]"


def plan_tree(plan: Masterplan, estimate: Estimate | None = None) -> Tree:
    """The hierarchy Phase > Milestone > Task > Subtask of a plan loaded with its hierarchy."""
    title = f"[bold]{plan.project_name}[/bold]  {status_text(plan.status)}  [dim]{plan.id}[/dim]"
    tree = Tree(title)
    for phase in plan.phases:
        style = PHASE_STYLE.get(phase.phase_type, "white")
        phase_node = tree.add(
            f"[bold {style}]Phase {phase.number}: {phase.name}[/] [dim]({phase.phase_type})[/dim]"
        )
        for milestone in phase.milestones:
            ms_node = phase_node.add(f"[bold]Milestone {milestone.number}:[/bold] {milestone.name}")
            for task in milestone.tasks:
                deps = f" [dim]after {', '.join(map(str, task.depends_on))}[/dim]" if task.depends_on else ""
                files = ", ".join(task.target_files) or "[red]no target files[/red]"
                conf = f" conf {task.confidence:.2f}" if task.confidence is not None else ""
                task_node = ms_node.add(
                    f"{status_text(task.status)} [bold]#{task.task_number}[/bold] {task.name} "
                    f"[dim]({task.complexity})[/dim]{deps}{conf}\n[cyan]{files}[/cyan]"
                )
                for sub in task.subtasks:
                    task_node.add(f"[dim]{sub.number}. {sub.name}[/dim]")
    if estimate:
        cost = "unknown" if estimate.cost_usd is None else f"${estimate.cost_usd:.2f}"
        tree.add(
            f"[bold]Estimate:[/bold] {estimate.tokens:,} tokens, {cost}, about "
            f"{estimate.duration_seconds / 60:.1f} min in {estimate.waves} waves at parallelism {estimate.parallelism}"
        )
    return tree


def plans_table(plans: Sequence[Masterplan]) -> Table:
    table = Table("id", "project", "status", "tasks", "progress", "cost")
    for plan in plans:
        table.add_row(
            str(plan.id),
            plan.project_name,
            status_text(plan.status),
            str(plan.total_tasks),
            f"{plan.progress_percent:.0f}%",
            f"${plan.actual_cost_usd:.2f}",
        )
    return table
