"""The reviewer agent: reads a task, its diff and its errors, and suggests what a human should check."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field

import structlog
from pydantic_ai import Agent
from pydantic_ai.usage import RunUsage

from masterplan.llm import CallUsage, ResolvedModel, output_spec, usage_of
from masterplan.llm.roles import ReviewSuggestionsOutput, tagged

log = structlog.get_logger(__name__)

MAX_DIFF_CHARS = 30_000
INSTRUCTIONS = """\
You review the work an LLM coder did for one task of a software project. You get the task, the diff of
its commit, the errors of its attempts and how confident the system is (with the reasons).
Answer with concrete suggestions for the human reviewer, most important first: what is likely wrong or
missing, which behaviour to check, what to change. At most 8 suggestions, one sentence each."""


@dataclass
class ReviewContext:
    """What the reviewer reads about one task."""

    task_number: int
    task_name: str
    task_description: str
    complexity: str
    target_files: list[str]
    confidence: float
    confidence_parts: dict[str, float]
    diff: str = ""
    errors: list[str] = field(default_factory=list)
    feedback: str | None = None


def review_prompt(context: ReviewContext) -> str:
    diff = context.diff
    if len(diff) > MAX_DIFF_CHARS:
        diff = diff[:MAX_DIFF_CHARS] + f"\n... ({len(context.diff) - MAX_DIFF_CHARS} more characters)"
    parts = [
        f"# Task {context.task_number}: {context.task_name} ({context.complexity})",
        context.task_description,
        f"Target files: {', '.join(context.target_files)}",
        f"Confidence {context.confidence:.2f}; parts (0-1): {json.dumps(context.confidence_parts)}",
        tagged("diff", diff or "(no commit)"),
    ]
    if context.errors:
        parts.append(tagged("errors", "\n".join(f"- {e}" for e in context.errors[:30])))
    if context.feedback:
        parts.append(tagged("human_feedback", context.feedback))
    parts.append("List your suggestions.")
    return "\n\n".join(p for p in parts if p)


@functools.cache
def reviewer_agent() -> Agent[None, ReviewSuggestionsOutput]:
    """The typed reviewer agent (built on first use, never at import)."""
    return Agent(
        output_type=ReviewSuggestionsOutput, instructions=INSTRUCTIONS, name="reviewer", retries={"output": 2}
    )


def suggest(resolved: ResolvedModel, context: ReviewContext) -> tuple[list[str], CallUsage | None]:
    """The reviewer's suggestions and the call's usage; an empty list (logged) when the model fails,
    because a review must exist even when its suggestions could not be written."""
    usage = RunUsage()
    try:
        result = reviewer_agent().run_sync(
            review_prompt(context),
            model=resolved.model,
            model_settings=resolved.settings,
            usage=usage,
            output_type=output_spec(resolved, ReviewSuggestionsOutput),
        )
    except Exception as exc:  # a provider failure must not stop execution or the review
        log.warning("reviewer_failed", task_number=context.task_number, error=f"{type(exc).__name__}: {exc}")
        return [], usage_of(resolved, usage) if usage.requests else None
    suggestions = [" ".join(s.split()) for s in result.output.suggestions if s.strip()]
    return suggestions[:20], usage_of(resolved, usage)
