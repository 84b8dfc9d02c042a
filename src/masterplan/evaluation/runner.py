"""`masterplan eval`: sample requests end to end with one or more models, and the figures per project."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel

from masterplan.auth.tokens import local_token
from masterplan.cli.server import background_server
from masterplan.config import Settings
from masterplan.evaluation.flow import WorkflowBroken, check, execute, generate, tasks_of


class SampleRequest(BaseModel):
    name: str
    kind: str
    request: str


class ProjectResult(BaseModel):
    model: str
    project: str
    kind: str
    outcome: str
    error: str | None = None
    plan_id: str | None = None
    tasks: int = 0
    completed: int = 0
    failed: int = 0
    blocked: int = 0
    first_pass_rate: float = 0.0
    acceptance_pass_rate: float | None = None
    gate_overrides: int = 0
    reviews: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0


class EvalReport(BaseModel):
    models: list[str]
    results: list[ProjectResult]

    def overall(self, model: str) -> dict[str, Any]:
        rows = [r for r in self.results if r.model == model]
        tasks = sum(r.tasks for r in rows)
        rates = [r.acceptance_pass_rate for r in rows if r.acceptance_pass_rate is not None]
        return {
            "projects": len(rows),
            "workflow_ok": sum(r.outcome != "broken" for r in rows),
            "tasks": tasks,
            "completed": sum(r.completed for r in rows),
            "first_pass_rate": sum(r.first_pass_rate * r.tasks for r in rows) / tasks if tasks else 0.0,
            "acceptance_pass_rate": sum(rates) / len(rates) if rates else None,
            "reviews": sum(r.reviews for r in rows),
            "tokens": sum(r.tokens for r in rows),
            "cost_usd": sum(r.cost_usd for r in rows),
            "seconds": sum(r.seconds for r in rows),
        }


def sample_requests() -> list[SampleRequest]:
    """The shipped sample projects, from a CLI tool to a REST API with persistence."""
    text = resources.files("masterplan.evaluation").joinpath("requests.json").read_text()
    return [SampleRequest.model_validate(item) for item in json.loads(text)]


def run_project(http: httpx.Client, model: str, sample: SampleRequest) -> ProjectResult:
    """Generate, approve and execute one request; the workflow's own failures are recorded, not raised."""
    started = time.monotonic()
    result = ProjectResult(model=model, project=sample.name, kind=sample.kind, outcome="broken")
    try:
        generation = generate(http, sample.request)
        plan_id = str(generation["masterplan_id"])
        result.plan_id = plan_id
        check(http.post(f"/api/v1/masterplans/{plan_id}/approve"))
        detail, overrides = execute(http, plan_id, override_gate=True)
        runs = check(http.get(f"/api/v1/masterplans/{plan_id}/gate"))
        reviews = check(http.get("/api/v1/reviews", params={"masterplan_id": plan_id, "limit": 1}))
    except WorkflowBroken as exc:
        result.error = str(exc)
        result.seconds = time.monotonic() - started
        return result
    tasks = tasks_of(detail)
    ran = runs["must_run"] + runs["should_run"]
    result.outcome = detail["status"]
    result.tasks = len(tasks)
    result.completed = sum(t["status"] == "completed" for t in tasks)
    result.failed = sum(t["status"] == "failed" for t in tasks)
    result.blocked = sum(t["status"] == "blocked" for t in tasks)
    first_pass = sum(t["status"] == "completed" and t["retry_count"] == 0 for t in tasks)
    result.first_pass_rate = first_pass / len(tasks) if tasks else 0.0
    result.acceptance_pass_rate = (runs["must_passed"] + runs["should_passed"]) / ran if ran else None
    result.gate_overrides = overrides
    result.reviews = int(reviews["total"])
    result.tokens = (
        sum(t["input_tokens"] + t["output_tokens"] for t in tasks)
        + int(generation["input_tokens"])
        + int(generation["output_tokens"])
    )
    result.cost_usd = float(detail["actual_cost_usd"] or 0) + float(generation["cost_usd"] or 0)
    result.seconds = time.monotonic() - started
    return result


def run_eval(
    models: list[str],
    samples: list[SampleRequest],
    *,
    base_settings: Settings,
    on_result: Callable[[ProjectResult], None] | None = None,
) -> EvalReport:
    """Each model gets its own embedded stack (fresh data directory) and runs every sample request."""
    results: list[ProjectResult] = []
    for model in models:
        with tempfile.TemporaryDirectory(prefix="masterplan-eval-") as data_dir:
            settings = base_settings.model_copy(
                update={"model": model, "data_dir": Path(data_dir), "database_url": ""}
            )
            with background_server(settings) as base:
                headers = {"Authorization": f"Bearer {local_token(settings)}"}
                with httpx.Client(base_url=base, headers=headers, timeout=300) as http:
                    for sample in samples:
                        result = run_project(http, model, sample)
                        results.append(result)
                        if on_result:
                            on_result(result)
    return EvalReport(models=models, results=results)
