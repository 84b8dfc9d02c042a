"""`masterplan demo`: the main job on the embedded defaults, start to finish, with a summary."""

from __future__ import annotations

import json
import time
import uuid
from importlib import resources
from typing import Annotated, Any

import httpx
import typer

from masterplan.auth.tokens import local_token
from masterplan.cli.common import console, local_runtime, local_session, readable_errors
from masterplan.cli.render import plan_tree
from masterplan.cli.server import background_server
from masterplan.config import Settings
from masterplan.plans import repository
from masterplan.plans.estimates import estimate_plan


def example_plan() -> dict[str, Any]:
    text = resources.files("masterplan.examples").joinpath("todo_api.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


@readable_errors
def demo(
    ask: Annotated[
        bool, typer.Option("--ask", help="Ask before approving instead of approving at once.")
    ] = False,
) -> None:
    """Start the embedded stack, import the example plan, approve it and print it."""
    settings = Settings()
    started = time.monotonic()
    console.rule("[bold]masterplan demo")
    console.print(f"data directory: {settings.data_dir}")
    with background_server(settings) as base:
        headers = {"Authorization": f"Bearer {local_token(settings)}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            console.print(f"server up at {base} (API docs at {base}/api/docs)")
            created = http.post("/api/v1/masterplans", json=example_plan())
            created.raise_for_status()
            plan = created.json()
            console.print(f"imported [bold]{plan['project_name']}[/bold]: {plan['total_tasks']} tasks")
            with local_runtime(settings) as runtime, local_session(runtime) as (session, user):
                loaded = repository.get_plan(session, user, uuid.UUID(plan["id"]), hierarchy=True)
                console.print(plan_tree(loaded, estimate_plan(loaded, settings)))
            if ask and not typer.confirm("Approve this plan?", default=True):
                http.post(f"/api/v1/masterplans/{plan['id']}/reject", json={"reason": "declined in demo"})
                console.print("rejected; nothing to execute")
                return
            approved = http.post(f"/api/v1/masterplans/{plan['id']}/approve")
            approved.raise_for_status()
            console.print(f"[cyan]approved[/cyan] {plan['id']}")
    console.rule("summary")
    console.print(
        f"plan {plan['id']} approved with {plan['total_tasks']} tasks in {time.monotonic() - started:.1f} s"
    )
