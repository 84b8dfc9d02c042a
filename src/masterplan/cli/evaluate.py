"""`masterplan eval`: sample projects end to end with one or more models, as Markdown and JSON."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from masterplan.cli.common import console, readable_errors
from masterplan.config import Settings
from masterplan.evaluation.report import to_json, to_markdown
from masterplan.evaluation.runner import ProjectResult, run_eval, sample_requests

_MODEL_START = re.compile(r",\s*(?=(?:anthropic|openai|ollama|local|sim|function|test)(?::|,|$))")


def split_models(text: str) -> list[str]:
    """Split `a,b` into models, keeping commas inside one model's options (`sim:latency=1,seed=2`)."""
    return [part.strip() for part in _MODEL_START.split(text) if part.strip()]


@readable_errors
def evaluate(
    models: Annotated[
        str | None,
        typer.Option(help="Comma-separated models to compare, e.g. sim,local. Default: the configured one."),
    ] = None,
    only: Annotated[list[str] | None, typer.Option(help="Run only these sample projects (by name).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Run at most this many sample projects.")] = None,
    output: Annotated[Path, typer.Option(help="Directory for eval.md and eval.json.")] = Path("eval-results"),
) -> None:
    """Run the shipped sample requests end to end and report plan size, completion, first-pass and
    acceptance rates, reviews, tokens, cost and time, per project and overall."""
    settings = Settings()
    chosen = split_models(models) if models else [settings.model or "local"]
    samples = sample_requests()
    if only:
        unknown = set(only) - {s.name for s in samples}
        if unknown:
            raise typer.BadParameter(
                f"unknown sample(s) {sorted(unknown)}; known: {[s.name for s in samples]}"
            )
        samples = [s for s in samples if s.name in only]
    samples = samples[:limit] if limit else samples
    console.print(f"evaluating {len(samples)} projects with {', '.join(chosen)}")

    def show(result: ProjectResult) -> None:
        colour = {"completed": "green", "broken": "red"}.get(result.outcome, "yellow")
        console.print(
            f"[{colour}]{result.outcome:>10}[/{colour}] {result.model} / {result.project}: "
            f"{result.completed}/{result.tasks} tasks, {result.reviews} reviews, {result.seconds:.0f}s"
            + (f" — {result.error}" if result.error else "")
        )

    report = run_eval(chosen, samples, base_settings=settings, on_result=show)
    output.mkdir(parents=True, exist_ok=True)
    (output / "eval.md").write_text(to_markdown(report))
    (output / "eval.json").write_text(to_json(report))
    console.print(to_markdown(report))
    console.print(f"wrote {output / 'eval.md'} and {output / 'eval.json'}")
