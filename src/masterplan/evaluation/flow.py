"""The main job driven through the API of a running server: generate, approve, execute, collect figures.

Used by `masterplan demo` (with a live view) and `masterplan eval` (many requests, many models).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

FINISHED = ("completed", "failed", "cancelled")
Detail = dict[str, Any]


class WorkflowBroken(Exception):
    """The workflow itself failed (an API error, a crashed run), not the model's work."""


def check(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a successful response; a clear WorkflowBroken otherwise."""
    if response.is_error:
        request = response.request
        raise WorkflowBroken(
            f"{request.method} {request.url.path}: {response.status_code} {response.text[:500]}"
        )
    body: dict[str, Any] = response.json()
    return body


def generate(
    http: httpx.Client,
    request: str,
    *,
    model: str | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    poll: float = 0.5,
) -> dict[str, Any]:
    """Start a generation and wait for it; returns the generation (with masterplan_id) or raises."""
    body: dict[str, Any] = {"request": request}
    if model:
        body["model"] = model
    accepted = check(http.post("/api/v1/masterplans/generate", json=body))
    while True:
        generation = check(http.get(f"/api/v1/generations/{accepted['generation_id']}"))
        if on_progress:
            on_progress(generation)
        if generation["status"] not in ("queued", "running"):
            break
        time.sleep(poll)
    if generation["status"] != "completed" or not generation["masterplan_id"]:
        raise WorkflowBroken(f"generation {generation['status']}: {generation['error']}")
    return generation


def execute(
    http: httpx.Client,
    plan_id: str,
    *,
    override_gate: bool,
    on_update: Callable[[Detail], None] | None = None,
    on_override: Callable[[dict[str, Any]], None] | None = None,
    poll: float = 0.5,
) -> tuple[Detail, int]:
    """Execute an approved plan until it ends or pauses for a reason no one here resolves.

    A failed Gate S is overridden (audited) and the run resumed when `override_gate` is set; returns the
    final detail and the number of overrides.
    """
    check(http.post(f"/api/v1/masterplans/{plan_id}/execute"))
    overrides = 0
    while True:
        detail = check(http.get(f"/api/v1/masterplans/{plan_id}"))
        if on_update:
            on_update(detail)
        if detail["status"] in FINISHED:
            return detail, overrides
        if detail["status"] == "paused":
            gate = check(http.get(f"/api/v1/masterplans/{plan_id}/gate"))
            if detail["status_reason"] != "gate_failed" or not override_gate or not gate["failing"]:
                return detail, overrides
            if on_override:
                on_override(gate)
            check(http.post(f"/api/v1/masterplans/{plan_id}/gate/override", json={"reason": "automated run"}))
            check(http.post(f"/api/v1/masterplans/{plan_id}/resume"))
            overrides += 1
        time.sleep(poll)


def tasks_of(detail: Detail) -> list[dict[str, Any]]:
    return [t for p in detail["phases"] for m in p["milestones"] for t in m["tasks"]]
