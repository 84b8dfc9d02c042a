"""`masterplan reviews ...`: the human review queue: list, show, approve, reject, regenerate."""

from __future__ import annotations

import os
import uuid
from typing import Annotated

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from masterplan.cli.common import console, local_runtime, local_session, readable_errors
from masterplan.cli.render import status_text
from masterplan.review import actions, repository
from masterplan.review.endpoints import detail_of, summary_of
from masterplan.review.regeneration import continue_after_regenerate
from masterplan.review.schemas import ReviewDetail
from masterplan.runtime import Runtime

app = typer.Typer(
    help="The review queue: tasks the system is unsure of, waiting for a human.", no_args_is_help=True
)
PRIORITY_STYLE = {"high": "red", "critical": "red", "medium": "yellow", "low": "bright_black"}
REVIEW_STYLE = {
    "pending": "yellow",
    "approved": "green",
    "rejected": "red",
    "edited": "cyan",
    "regenerating": "blue",
}


def parse_review_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a review id (a UUID such as 3f2c...-...)") from None


ReviewId = Annotated[uuid.UUID, typer.Argument(parser=parse_review_id, help="The review's id.")]
Feedback = Annotated[str, typer.Option("--feedback", "-f", help="What is wrong and what would be right.")]


def _styled(value: str, styles: dict[str, str]) -> str:
    style = styles.get(value, "white")
    return f"[{style}]{value}[/{style}]"


@app.command("list")
@readable_errors
def list_reviews(
    status: Annotated[
        str | None, typer.Option(help="pending, approved, rejected, edited, regenerating.")
    ] = "pending",
    priority: Annotated[str | None, typer.Option(help="high, medium or low.")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Only reviews of this plan id.")] = None,
    all_statuses: Annotated[bool, typer.Option("--all", help="Every status, not only pending.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
) -> None:
    """Reviews, lowest confidence first."""
    plan_id = parse_review_id(plan) if plan else None
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        rows, total = repository.list_reviews(
            session,
            user,
            status=None if all_statuses else status,
            priority=priority,
            plan_id=plan_id,
            sort="confidence",
            limit=limit,
            offset=0,
        )
        table = Table("id", "task", "confidence", "priority", "status", "plan", title=f"{total} review(s)")
        for review, task in rows:
            item = summary_of(review, task)
            table.add_row(
                str(item.id),
                escape(f"#{item.task_number} {item.task_name}"),
                f"{item.confidence:.2f}",
                _styled(item.priority, PRIORITY_STYLE),
                _styled(item.status, REVIEW_STYLE),
                str(item.masterplan_id)[:8],
            )
    console.print(table)


def print_detail(detail: ReviewDetail, *, diff: bool = True) -> None:
    parts = ", ".join(
        f"{k} {v:.2f}" for k, v in detail.confidence_parts.items() if isinstance(v, int | float)
    )
    console.print(
        Panel(
            f"[bold]#{detail.task_number} {escape(detail.task_name)}[/bold]  task {status_text(detail.task.status)}\n"
            f"review {_styled(detail.status, REVIEW_STYLE)}  priority {_styled(detail.priority, PRIORITY_STYLE)}  "
            f"confidence [bold]{detail.confidence:.2f}[/bold]  ({parts})\n"
            f"files: {', '.join(detail.task.target_files)}  commit: {detail.task.commit_sha or '-'}",
            title=f"review {detail.id}",
            title_align="left",
        )
    )
    if detail.suggestions:
        console.print("[bold]suggestions[/bold]")
        for suggestion in detail.suggestions:
            console.print(f"  - {escape(suggestion)}")
    if detail.reviewer_feedback:
        console.print(f"[bold]feedback[/bold]: {escape(detail.reviewer_feedback)}")
    if detail.errors:
        console.print("[bold]errors of the attempts[/bold]")
        for error in detail.errors[-10:]:
            console.print(f"  - {escape(error)}")
    if diff and detail.diff:
        console.print(Syntax(detail.diff, "diff", word_wrap=True))


@app.command("show")
@readable_errors
def show(
    review_id: ReviewId, diff: Annotated[bool, typer.Option(help="Print the commit's diff.")] = True
) -> None:
    """A review: the task, its confidence, suggestions, errors and the diff of its commit."""
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        detail = detail_of(session, user, review_id)
    print_detail(detail, diff=diff)


@app.command("approve")
@readable_errors
def approve(review_id: ReviewId) -> None:
    """Accept the task's work as it is."""
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        actions.approve_review(session, user, review_id)
        detail = detail_of(session, user, review_id)
    console.print(f"review {detail.id} approved (task #{detail.task_number})")


@app.command("reject")
@readable_errors
def reject(review_id: ReviewId, feedback: Feedback) -> None:
    """Reject the work: the task becomes failed; regenerate it (or retry it) afterwards."""
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        actions.reject_review(session, user, review_id, feedback)
        detail = detail_of(session, user, review_id)
    console.print(f"review {detail.id} rejected; task #{detail.task_number} is {detail.task.status}")


@app.command("regenerate")
@readable_errors
def regenerate(
    review_id: ReviewId,
    feedback: Feedback,
    wait: Annotated[
        bool, typer.Option(help="When no server runs the plan, run it here until it ends.")
    ] = True,
) -> None:
    """Run the task again with the feedback; print its new confidence when it ends."""
    with local_runtime() as runtime:
        with local_session(runtime) as (session, user):
            review = actions.regenerate_review(session, user, review_id, feedback)
            after = continue_after_regenerate(session, runtime, review.masterplan_id)
        if after.start_execution_id and wait:
            _run_here(runtime, after.plan.id, after.start_execution_id)
        elif after.start_execution_id:
            console.print("the plan runs again when a server starts (masterplan serve)")
        else:
            after.run(runtime)
        with local_session(runtime) as (session, user):
            detail = detail_of(session, user, review_id)
    if detail.status == "regenerating":
        console.print(
            f"task #{detail.task_number} is queued for regeneration; follow it with: masterplan watch"
        )
        return
    print_detail(detail, diff=False)


def _run_here(runtime: Runtime, plan_id: uuid.UUID, execution_id: str) -> None:
    """Run the plan's new execution in this process until it ends (no server is running it)."""
    from dbos import DBOS

    from masterplan.durable import launch_durable, shutdown_durable
    from masterplan.execution.control import start_run

    console.print(f"running the plan here until it ends (execution {execution_id})")
    launch_durable(runtime, executor_id=f"cli-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    try:
        start_run(plan_id, execution_id)
        DBOS.retrieve_workflow(execution_id).get_result()
    finally:
        shutdown_durable()
