"""Eval reports as Markdown (per project, then overall, models side by side) and JSON."""

from __future__ import annotations

import json

from masterplan.evaluation.runner import EvalReport


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def to_markdown(report: EvalReport) -> str:
    lines = [
        "# masterplan eval",
        "",
        "| model | project | outcome | tasks | completed | first pass | acceptance | reviews | tokens | cost | time |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.results:
        lines.append(
            f"| {r.model} | {r.project} | {r.outcome} | {r.tasks} | {r.completed} | {_rate(r.first_pass_rate)} | "
            f"{_rate(r.acceptance_pass_rate)} | {r.reviews} | {r.tokens:,} | ${r.cost_usd:.4f} | {r.seconds:.0f}s |"
        )
    lines += [
        "",
        "## Overall",
        "",
        "| figure | " + " | ".join(report.models) + " |",
        "|---|" + "---|" * len(report.models),
    ]
    overall = [report.overall(m) for m in report.models]
    for key in (
        "projects",
        "workflow_ok",
        "tasks",
        "completed",
        "first_pass_rate",
        "acceptance_pass_rate",
        "reviews",
        "tokens",
        "cost_usd",
        "seconds",
    ):
        cells = []
        for figures in overall:
            value = figures[key]
            if key.endswith("rate"):
                cells.append(_rate(value))
            elif key == "cost_usd":
                cells.append(f"${value:.4f}")
            elif key == "seconds":
                cells.append(f"{value:.0f}s")
            else:
                cells.append(f"{value:,}")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    errors = [r for r in report.results if r.error]
    if errors:
        lines += ["", "## Workflow errors", ""] + [f"- {r.model} / {r.project}: {r.error}" for r in errors]
    return "\n".join(lines) + "\n"


def to_json(report: EvalReport) -> str:
    data = report.model_dump(mode="json")
    data["overall"] = {m: report.overall(m) for m in report.models}
    return json.dumps(data, indent=2)
