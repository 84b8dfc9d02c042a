"""Tokens and cost of model calls: every call records model, input/output tokens and its price."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from pydantic import BaseModel
from pydantic_ai.usage import RunUsage

from masterplan.llm.models import ResolvedModel
from masterplan.llm.pricing import price_usd

log = structlog.get_logger(__name__)


class CallUsage(BaseModel):
    """What one or more calls used; `cost_usd` is None when any price was unknown."""

    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    cost_usd: float | None = 0.0

    def __add__(self, other: CallUsage) -> CallUsage:
        models = [m for m in (self.model, other.model) if m]
        cost = None if self.cost_usd is None or other.cost_usd is None else self.cost_usd + other.cost_usd
        return CallUsage(
            model=models[0] if len(set(models)) == 1 else ", ".join(dict.fromkeys(models)),
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            requests=self.requests + other.requests,
            cost_usd=cost,
        )


def usage_of(resolved: ResolvedModel | str, usage: RunUsage) -> CallUsage:
    """The recorded usage of a run: tokens always, cost when the model's price is known."""
    name = resolved if isinstance(resolved, str) else resolved.name
    spec = name if isinstance(resolved, str) else resolved.spec
    cost = price_usd(spec, usage.input_tokens, usage.output_tokens)
    log.info(
        "llm_usage",
        model=name,
        requests=usage.requests,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=cost,
    )
    return CallUsage(
        model=name,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        requests=usage.requests,
        cost_usd=cost,
    )


@dataclass
class UsageRecorder:
    """Accumulates the usage of a sequence of calls (e.g. one generation)."""

    total: CallUsage

    @classmethod
    def start(cls) -> UsageRecorder:
        return cls(total=CallUsage())

    def add(self, usage: CallUsage) -> CallUsage:
        self.total = self.total + usage
        return self.total
