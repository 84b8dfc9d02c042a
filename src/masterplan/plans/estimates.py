"""Estimates before approval: tokens, cost and duration from task complexity and the plan's waves."""

from __future__ import annotations

from masterplan.config import Settings
from masterplan.errors import ConfigurationError
from masterplan.llm.pricing import price_usd
from masterplan.models import Masterplan, Task
from masterplan.plans.graph import critical_path, waves
from masterplan.plans.schemas import Estimate

# Typical coder-call sizes and durations per complexity, including an average share of retries.
TOKENS_IN = {"low": 2500, "medium": 4000, "high": 7000, "critical": 11000}
TOKENS_OUT = {"low": 900, "medium": 1800, "high": 3500, "critical": 6000}
SECONDS = {"low": 20.0, "medium": 40.0, "high": 80.0, "critical": 140.0}


def coder_model_name(settings: Settings) -> str:
    return settings.model_coder or settings.model or "local"


def estimate_tasks(
    tasks: list[Task], settings: Settings, *, seconds: dict[str, float] | None = None
) -> Estimate:
    durations = seconds or SECONDS
    tokens_in = sum(TOKENS_IN.get(t.complexity, 4000) for t in tasks)
    tokens_out = sum(TOKENS_OUT.get(t.complexity, 1800) for t in tasks)
    try:
        cost = price_usd(coder_model_name(settings), tokens_in, tokens_out)
    except ConfigurationError:
        cost = None
    graph = {t.task_number: t.depends_on for t in tasks}
    weight = {t.task_number: durations.get(t.complexity, 40.0) for t in tasks}
    levels = waves(graph)
    parallelism = settings.parallelism
    duration = sum(
        max(max(weight[n] for n in level), sum(weight[n] for n in level) / parallelism) for level in levels
    )
    _, chain = critical_path(graph, weight)
    return Estimate(
        tokens=tokens_in + tokens_out,
        cost_usd=None if cost is None else round(cost, 4),
        duration_seconds=round(duration, 1),
        waves=len(levels),
        critical_path=chain,
        parallelism=parallelism,
    )


def estimate_plan(plan: Masterplan, settings: Settings) -> Estimate:
    """Estimate a plan loaded with its hierarchy."""
    tasks = [t for p in plan.phases for m in p.milestones for t in m.tasks]
    return estimate_tasks(tasks, settings)
