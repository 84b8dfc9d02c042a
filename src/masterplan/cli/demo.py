"""`masterplan demo`: the main job on the embedded defaults, from a request to a built workspace."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

import httpx
import typer
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from masterplan.auth.tokens import local_token
from masterplan.cli.common import console, local_runtime, local_session, readable_errors
from masterplan.cli.render import plan_tree, status_text
from masterplan.cli.server import background_server
from masterplan.config import Settings
from masterplan.evaluation import flow
from masterplan.llm.models import describe_models
from masterplan.plans import repository
from masterplan.plans.estimates import estimate_plan

SAMPLE_REQUEST = "A command-line todo list in Python that stores tasks in a JSON file, with tests."
STRONGER_MODELS = (
    "For real code choose a stronger model: MASTERPLAN_MODEL=anthropic:claude-sonnet-4-5 (ANTHROPIC_API_KEY), "
    "openai:gpt-4o (OPENAI_API_KEY), or ollama:<model> / any OpenAI-compatible server via "
    "MASTERPLAN_OPENAI_BASE_URL."
)


def _generate(http: httpx.Client, request: str) -> dict[str, Any]:
    with console.status("discovery…") as status:

        def progress(generation: dict[str, Any]) -> None:
            tokens = generation["input_tokens"] + generation["output_tokens"]
            status.update(f"{generation['stage']}… {tokens:,} tokens")

        generation = flow.generate(http, request, on_progress=progress)
    tokens = generation["input_tokens"] + generation["output_tokens"]
    console.print(f"generated plan {generation['masterplan_id']} with {tokens:,} tokens")
    return generation


def _view(detail: dict[str, Any], started: float) -> Table:
    tasks = [t for p in detail["phases"] for m in p["milestones"] for t in m["tasks"]]
    counts: dict[str, int] = {}
    for task in tasks:
        counts[task["status"]] = counts.get(task["status"], 0) + 1
    table = Table.grid(padding=(0, 2))
    done = detail["completed_tasks"] + detail["failed_tasks"] + detail["skipped_tasks"]
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}")
    )
    progress.add_task(f"wave {detail['current_wave'] or '-'}", total=max(len(tasks), 1), completed=done)
    table.add_row(progress)
    table.add_row(
        "  ".join(f"{status_text(s)} {n}" for s, n in sorted(counts.items()))
        + f"   cost ${detail['actual_cost_usd']:.4f}   {time.monotonic() - started:.0f}s   {status_text(detail['status'])}"
    )
    running = [
        f"#{t['task_number']} {t['name']}" for t in tasks if t["status"] in ("in_progress", "validating")
    ]
    if running:
        table.add_row("[yellow]running:[/yellow] " + ", ".join(running[:6]))
    return table


def _execute(http: httpx.Client, plan_id: str, *, override_gate: bool) -> tuple[dict[str, Any], int]:
    """Execute with a live view; a failed gate is reported and, when allowed, overridden (audited)."""
    started = time.monotonic()
    with Live(console=console, refresh_per_second=4) as live:

        def overriding(gate: dict[str, Any]) -> None:
            names = ", ".join(f["name"] for f in gate["failing"])
            live.console.print(
                f"[magenta]Gate S failed[/magenta] ({names}); overriding it for the demo (audited)"
            )

        return flow.execute(
            http,
            plan_id,
            override_gate=override_gate,
            on_update=lambda detail: live.update(_view(detail, started)),
            on_override=overriding,
        )


def _summary(http: httpx.Client, detail: dict[str, Any], overrides: int, base: str, started: float) -> None:
    plan_id = detail["id"]
    tasks = [t for p in detail["phases"] for m in p["milestones"] for t in m["tasks"]]
    gate = flow.check(http.get(f"/api/v1/masterplans/{plan_id}/gate"))
    reviews = flow.check(http.get("/api/v1/reviews", params={"masterplan_id": plan_id, "limit": 200}))
    tokens = sum(t["input_tokens"] + t["output_tokens"] for t in tasks)
    tokens += detail["generation_input_tokens"] + detail["generation_output_tokens"]
    table = Table(title="summary", show_header=False)
    rows = [
        ("plan", f"{detail['project_name']} ({plan_id}) {status_text(detail['status'])}"),
        (
            "tasks",
            f"{detail['completed_tasks']} completed, {detail['failed_tasks']} failed, "
            f"{sum(t['status'] == 'blocked' for t in tasks)} blocked, {detail['skipped_tasks']} skipped of {len(tasks)}",
        ),
        (
            "acceptance",
            f"must {gate['must_passed']}/{gate['must_run']}, should {gate['should_passed']}/{gate['should_run']}, "
            f"gate {'passed' if gate['gate_passed'] else 'failed'}{f', overridden {overrides}x' if overrides else ''}",
        ),
        ("reviews", f"{reviews['total']} created for a human"),
        (
            "tokens and cost",
            f"{tokens:,} tokens, ${(detail['actual_cost_usd'] or 0) + (detail['generation_cost_usd'] or 0):.4f}",
        ),
        ("duration", f"{time.monotonic() - started:.0f} s"),
        ("workspace", str(detail["workspace_path"])),
        ("UI", f"run `masterplan serve` and open http://127.0.0.1:8000/ (this run used {base})"),
    ]
    for name, value in rows:
        table.add_row(f"[bold]{name}[/bold]", value)
    console.print(table)
    if detail["failed_tasks"] or not gate["gate_passed"]:
        console.print(
            "[yellow]Some tasks failed their checks or tests. With a small local model that is expected: it "
            "proves the workflow, not code quality.[/yellow]"
        )


@readable_errors
def demo(
    request: Annotated[str, typer.Option(help="What to build.")] = SAMPLE_REQUEST,
    ask: Annotated[
        bool, typer.Option("--ask", help="Ask before approving instead of approving at once.")
    ] = False,
    override_gate: Annotated[
        bool, typer.Option(help="Override a failed acceptance gate (audited) so the whole plan runs.")
    ] = True,
    serve: Annotated[
        bool, typer.Option("--serve", help="Keep the server (API and UI) running afterwards.")
    ] = False,
) -> None:
    """Generate a plan, approve it and execute it on the embedded stack, then print a summary."""
    settings = Settings()
    started = time.monotonic()
    console.rule("[bold]masterplan demo")
    console.print(f"data directory: {settings.data_dir}")
    models = describe_models(settings)
    console.print("models: " + ", ".join(f"{role}={name}" for role, name in models.items()))
    port = settings.port if serve else None
    try:
        with background_server(settings, port=port) as base:
            headers = {"Authorization": f"Bearer {local_token(settings)}"}
            with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
                console.print(f"server up at {base} (API docs at {base}/api/docs)")
                console.print(f"request: [italic]{request}[/italic]")
                generation = _generate(http, request)
                plan_id = generation["masterplan_id"]
                with local_runtime(settings) as runtime, local_session(runtime) as (session, user):
                    loaded = repository.get_plan(session, user, uuid.UUID(plan_id), hierarchy=True)
                    console.print(plan_tree(loaded, estimate_plan(loaded, settings)))
                if ask and not typer.confirm("Approve and execute this plan?", default=True):
                    flow.check(
                        http.post(
                            f"/api/v1/masterplans/{plan_id}/reject", json={"reason": "declined in demo"}
                        )
                    )
                    console.print("rejected; nothing executed")
                    return
                flow.check(http.post(f"/api/v1/masterplans/{plan_id}/approve"))
                console.print(f"[cyan]approved[/cyan] {plan_id}")
                detail, overrides = _execute(http, plan_id, override_gate=override_gate)
                _summary(http, detail, overrides, base, started)
                console.print(f"models used: {', '.join(sorted(set(models.values())))}. {STRONGER_MODELS}")
                if serve:
                    console.print(f"serving at {base}/?token={local_token(settings)} — Ctrl+C to stop")
                    while True:
                        time.sleep(3600)
    except flow.WorkflowBroken as exc:
        console.print(f"[red]the workflow broke:[/red] {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("stopped")
