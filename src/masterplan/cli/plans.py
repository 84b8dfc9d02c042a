"""`masterplan plans ...`: list, show, import, approve, reject, delete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from masterplan.cli.common import console, local_runtime, local_session, parse_id, readable_errors
from masterplan.cli.render import plan_tree, plans_table
from masterplan.errors import PlanValidationError
from masterplan.plans import repository, service
from masterplan.plans.estimates import estimate_plan
from masterplan.plans.schemas import ApproveRequest, PlanDocument

app = typer.Typer(help="Import, inspect, approve and reject plans.", no_args_is_help=True)


@app.command("list")
@readable_errors
def list_plans(
    status: Annotated[str | None, typer.Option(help="Only plans with this status.")] = None,
    search: Annotated[str | None, typer.Option("--search", "-q", help="Text in name or description.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """List plans, newest first."""
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        rows, total = repository.list_plans(session, user, status=status, query=search, limit=limit, offset=0)
        console.print(plans_table(rows))
        console.print(f"[dim]{len(rows)} of {total} plans[/dim]")


@app.command()
@readable_errors
def show(plan_id: Annotated[str, typer.Argument(help="Plan id.")]) -> None:
    """Print a plan's hierarchy as a tree with status colours, and its estimate."""
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        plan = repository.get_plan(session, user, parse_id(plan_id), hierarchy=True)
        console.print(plan_tree(plan, estimate_plan(plan, runtime.settings)))
        if plan.workspace_path:
            console.print(f"workspace: {plan.workspace_path}")


def load_document(path: Path) -> PlanDocument:
    try:
        return PlanDocument.model_validate(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}") from None
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise PlanValidationError(problems) from None


@app.command("import")
@readable_errors
def import_plan(
    path: Annotated[Path, typer.Argument(help="A plan document (JSON).", exists=True, dir_okay=False)],
) -> None:
    """Import a plan document as a draft."""
    document = load_document(path)
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        plan = service.create_plan(
            session,
            user,
            document,
            max_retries=runtime.settings.task_max_retries,
            soft_cost_limit_usd=runtime.settings.soft_cost_limit_usd,
            hard_cost_limit_usd=runtime.settings.hard_cost_limit_usd,
            action="imported",
        )
        console.print(f"[green]imported[/green] {plan.project_name}: {plan.total_tasks} tasks, id {plan.id}")


@app.command()
@readable_errors
def approve(
    plan_id: str,
    soft_limit: Annotated[float | None, typer.Option(help="Soft cost limit in dollars.")] = None,
    hard_limit: Annotated[float | None, typer.Option(help="Hard cost limit in dollars.")] = None,
) -> None:
    """Approve a draft plan."""
    request = ApproveRequest(soft_cost_limit_usd=soft_limit, hard_cost_limit_usd=hard_limit)
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        plan = service.approve_plan(session, user, parse_id(plan_id), request)
        console.print(f"[cyan]approved[/cyan] {plan.project_name} ({plan.id})")


@app.command()
@readable_errors
def reject(
    plan_id: str, reason: Annotated[str | None, typer.Option(help="Why it is rejected.")] = None
) -> None:
    """Reject a draft plan."""
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        plan = service.reject_plan(session, user, parse_id(plan_id), reason)
        console.print(f"[red]rejected[/red] {plan.project_name} ({plan.id})")


@app.command()
@readable_errors
def delete(plan_id: str) -> None:
    """Delete a draft or rejected plan."""
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        service.delete_plan(session, user, parse_id(plan_id))
        console.print(f"deleted {plan_id}")
