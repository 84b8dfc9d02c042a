"""`masterplan plans ...`: list, show, import, approve, reject, delete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, get_args

import typer
from pydantic import ValidationError

from masterplan.cli.common import console, local_runtime, local_session, parse_id, readable_errors
from masterplan.cli.render import plan_tree, plans_table
from masterplan.errors import PlanValidationError
from masterplan.llm.errors import model_errors
from masterplan.plans import repository, review_agent, service
from masterplan.plans.edit_service import edit_plan
from masterplan.plans.editing import EditRequest
from masterplan.plans.estimates import estimate_plan
from masterplan.plans.export import to_markdown
from masterplan.plans.importers import import_document
from masterplan.plans.review_agent import ReviewScope, ReviewType
from masterplan.plans.schemas import ApproveRequest, PlanDocument
from masterplan.plans.versions import diff_snapshots, get_version, list_versions

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
    path: Annotated[Path, typer.Argument(help="The file to import.", exists=True, dir_okay=False)],
    source: Annotated[
        str,
        typer.Option(
            "--from", help="masterplan (JSON document), taskmaster (tasks.json) or speckit (tasks.md)."
        ),
    ] = "masterplan",
    name: Annotated[str | None, typer.Option(help="Project name for imported tools' files.")] = None,
) -> None:
    """Import a plan as a draft: our JSON document, a Task Master tasks.json or a Spec Kit tasks.md."""
    if source not in ("masterplan", "taskmaster", "speckit"):
        raise typer.BadParameter("--from must be masterplan, taskmaster or speckit")
    if source == "masterplan":
        document = load_document(path)
    else:
        document = import_document(source, path.read_text(), name)  # type: ignore[arg-type]
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        plan = service.create_plan(
            session,
            user,
            document,
            max_retries=runtime.settings.task_max_retries,
            soft_cost_limit_usd=runtime.settings.soft_cost_limit_usd,
            hard_cost_limit_usd=runtime.settings.hard_cost_limit_usd,
            action="imported" if source == "masterplan" else f"imported_{source}",
            require_target_files=source == "masterplan",
        )
        missing = [t.task_number for t in document.all_tasks() if not t.target_files]
        if missing:
            console.print(f"[yellow]tasks without target files (fill in before approval): {missing}[/yellow]")
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


@app.command()
@readable_errors
def edit(
    plan_id: str,
    operations: Annotated[
        list[str] | None,
        typer.Argument(help='Operations as JSON, e.g. \'{"op": "update_task", "task": 3, "name": "x"}\'.'),
    ] = None,
    file: Annotated[Path | None, typer.Option(help="A JSON file with a list of operations.")] = None,
    summary: Annotated[str, typer.Option(help="What the change does.")] = "",
) -> None:
    """Edit a draft: add, update, delete or move phases, milestones, tasks and subtasks (one new version)."""
    raw: list[object] = [json.loads(op) for op in operations or []]
    if file:
        loaded = json.loads(file.read_text())
        raw.extend(loaded if isinstance(loaded, list) else [loaded])
    if not raw:
        raise typer.BadParameter("give at least one operation (argument or --file)")
    try:
        request = EditRequest.model_validate({"operations": raw, "summary": summary})
    except ValidationError as exc:
        raise PlanValidationError(
            [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        ) from None
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        plan = edit_plan(session, user, parse_id(plan_id), list(request.operations), summary=summary)
        console.print(f"[green]edited[/green] {plan.project_name}: now version {plan.version}")


@app.command()
@readable_errors
def versions(plan_id: str) -> None:
    """List a plan's versions."""
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        plan = repository.get_plan(session, user, parse_id(plan_id))
        for row in list_versions(session, plan.id):
            console.print(f"v{row.version}  {row.created_at:%Y-%m-%d %H:%M}  {row.change_summary}")


@app.command()
@readable_errors
def diff(plan_id: str, from_version: int, to_version: int) -> None:
    """Show what changed between two versions."""
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        plan = repository.get_plan(session, user, parse_id(plan_id))
        before, after = get_version(session, plan.id, from_version), get_version(session, plan.id, to_version)
        result = diff_snapshots(before.snapshot, after.snapshot, from_version, to_version)
        console.print_json(result.model_dump_json())


@app.command()
@readable_errors
def export(
    plan_id: str,
    format: Annotated[str, typer.Option(help="json or markdown.")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Export a plan as JSON (importable again) or Markdown."""
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        plan = repository.get_plan(session, user, parse_id(plan_id), hierarchy=True)
        document = service.document_of(plan)
        text = (
            to_markdown(document, plan.status) if format == "markdown" else document.model_dump_json(indent=2)
        )
    if output:
        output.write_text(text)
        console.print(f"wrote {output}")
    else:
        print(text)


@app.command()
@readable_errors
def review(
    plan_id: str,
    kind: Annotated[
        str, typer.Option("--type", help="refine_descriptions, add_missing, optimize_order or break_down.")
    ] = "refine_descriptions",
    scope: Annotated[str, typer.Option(help="plan, phase, milestone or task.")] = "plan",
    target: Annotated[str | None, typer.Option(help="Phase, milestone or task number for the scope.")] = None,
) -> None:
    """Ask the reviewer model for edit suggestions on a draft; apply them with `apply-suggestions`."""
    if kind not in get_args(ReviewType) or scope not in get_args(ReviewScope):
        raise typer.BadParameter(
            f"--type is one of {get_args(ReviewType)}; --scope one of {get_args(ReviewScope)}"
        )
    with local_runtime() as runtime:
        with local_session(runtime) as (session, user):
            document = review_agent.draft_document(session, user, parse_id(plan_id))
        with model_errors():
            iteration = review_agent.review_plan(runtime, parse_id(plan_id), document, kind, scope, target)  # type: ignore[arg-type]
    console.print(f"review iteration {iteration.id}: {len(iteration.suggestions)} suggestions")
    for index, suggestion in enumerate(iteration.suggestions):
        operation = {k: v for k, v in suggestion["operation"].items() if v is not None}
        console.print(
            f"[bold]{index}[/bold] {json.dumps(operation)}\n   [dim]{suggestion.get('rationale', '')}[/dim]"
        )


@app.command("apply-suggestions")
@readable_errors
def apply_suggestions(
    plan_id: str,
    iteration_id: str,
    indices: Annotated[list[int], typer.Argument(help="Positions of the suggestions to apply.")],
) -> None:
    """Apply chosen review suggestions to a draft as one validated change (a new version)."""
    with local_runtime() as runtime, local_session(runtime) as (session, user):
        review_agent.apply_suggestions(session, user, parse_id(plan_id), parse_id(iteration_id), indices)
        plan = repository.get_plan(session, user, parse_id(plan_id))
        console.print(f"[green]applied[/green] {indices}: now version {plan.version}")
