"""`masterplan plan "<request>"`: discovery and planning in this process, with live progress and the tree."""

from __future__ import annotations

import os
import queue
import sys
import threading
import uuid
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from masterplan.cli.common import console, err_console, local_runtime, local_session, readable_errors
from masterplan.cli.render import plan_tree
from masterplan.config import Settings
from masterplan.events import StoredEvent
from masterplan.events.store import conversation_stream
from masterplan.generation import service
from masterplan.llm import describe_models, parse_model_spec
from masterplan.plans import repository
from masterplan.plans.estimates import estimate_plan


def models_table(settings: Settings, override: str | None = None) -> Table:
    """Which model each role uses (the override replaces discovery and planner)."""
    table = Table("role", "model", title="models", title_justify="left")
    for role, name in describe_models(settings).items():
        shown = str(parse_model_spec(override)) if override and role in ("discovery", "planner") else name
        table.add_row(role, shown)
    return table


@dataclass
class _View:
    """What the progress display shows, updated from generation events."""

    discovery: str = "analysing the request"
    planning: str = "waiting for discovery"
    tokens: int = 0
    discovery_done: bool = False


def _apply(view: _View, event: StoredEvent) -> None:
    data = event.payload
    tokens = int(data.get("tokens") or 0)
    if event.type in ("discovery_start", "discovery_progress"):
        view.discovery = str(data.get("message") or view.discovery)
    elif event.type == "discovery_complete":
        view.discovery_done = True
        view.discovery = str(data.get("message") or "done")
    elif event.type in ("masterplan_generation_start", "masterplan_tokens_progress"):
        view.tokens = max(view.tokens, tokens)
        view.planning = str(data.get("message") or "planning")
    elif event.type == "masterplan_generation_complete":
        view.tokens = max(view.tokens, tokens)
        view.planning = f"stored: {data.get('tasks', 0)} tasks"


@readable_errors
def plan(
    request: Annotated[str, typer.Argument(help="What to build, in plain words.")],
    model: Annotated[
        str | None, typer.Option(help="Model for discovery and planning, e.g. sim, local, anthropic:<model>.")
    ] = None,
) -> None:
    """Generate a masterplan from a request: discovery, then planning with a live token counter."""
    from masterplan.durable import launch_durable, shutdown_durable
    from masterplan.generation.workflow import launch_generation, wait_generation
    from masterplan.logging import configure_logging

    # Warnings only, on the process's stderr: the progress display owns stdout.
    configure_logging("warning", stream=sys.__stderr__, json_logs=False)
    settings = Settings()
    if model:
        parse_model_spec(model)
    console.print(models_table(settings, model))
    with local_runtime(settings) as runtime:
        events: queue.Queue[StoredEvent] = queue.Queue()
        # A process-unique executor: a server on the same data directory never adopts this run.
        launch_durable(runtime, executor_id=f"cli-{os.getpid()}-{uuid.uuid4().hex[:6]}")
        try:
            with local_session(runtime) as (session, user):
                generation = service.create_generation(session, user, request, settings, model=model)
            stream = conversation_stream(generation.conversation_id)

            def collect(batch: list[StoredEvent]) -> None:
                for event in batch:
                    if event.stream == stream:
                        events.put(event)

            unsubscribe = runtime.bus.subscribe(collect)
            launch_generation(generation.id, model)
            outcome: dict[str, str | None] = {}
            waiter = threading.Thread(target=lambda: outcome.update(plan_id=wait_generation(generation.id)))
            waiter.start()
            _show_progress(events, waiter)
            unsubscribe()
        finally:
            shutdown_durable()
        with local_session(runtime) as (session, user):
            row = service.get_generation(session, user, generation.id)
            if row.masterplan_id is None:
                err_console.print(f"[red]generation failed:[/red] {row.error}")
                raise typer.Exit(1)
            stored = repository.get_plan(session, user, row.masterplan_id, hierarchy=True)
            console.print(plan_tree(stored, estimate_plan(stored, settings)))
            cost = "unknown" if row.cost_usd is None else f"${row.cost_usd:.4f}"
            console.print(
                f"generation: {row.input_tokens:,} input + {row.output_tokens:,} output tokens, cost {cost}; "
                f"approve with: masterplan plans approve {stored.id}"
            )


def _show_progress(events: queue.Queue[StoredEvent], waiter: threading.Thread) -> None:
    view = _View()
    columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"), TextColumn("{task.fields[detail]}"))
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=False) as progress:
        discovery = progress.add_task("Discovery", total=1, detail=view.discovery)
        planning = progress.add_task("Planning", total=1, detail=view.planning, start=False)
        while waiter.is_alive() or not events.empty():
            try:
                _apply(view, events.get(timeout=0.1))
            except queue.Empty:
                continue
            progress.update(discovery, detail=view.discovery, completed=1 if view.discovery_done else 0)
            if view.discovery_done:
                progress.start_task(planning)
            progress.update(planning, detail=f"{view.planning} · {view.tokens:,} tokens")
        progress.update(planning, completed=1)
    waiter.join()
