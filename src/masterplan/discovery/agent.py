"""The discovery agent: a request in, a domain-driven analysis out."""

from __future__ import annotations

from pydantic_ai import Agent

from masterplan.discovery.schemas import DiscoveryOutput
from masterplan.llm import CallUsage, ResolvedModel, output_spec, run_agent, usage_of
from masterplan.llm.roles import tagged
from masterplan.llm.run import Progress

OUTPUT_RETRIES = 2
INSTRUCTIONS = """\
You are a domain-driven design analyst. Read the project request and describe its domain:
- domain: the business domain in a few words;
- bounded_contexts: the separate areas of responsibility, each with its responsibilities;
- aggregates: consistency boundaries with their entities and invariants, each in a bounded context;
- value_objects, domain_events (with what raises them) and services (with their operations);
- assumptions you had to make, clarifications_needed from a human, and risk_factors.
Keep every list short and concrete; prefer the words of the request. Answer only through the output tool."""


def discovery_prompt(request_text: str) -> str:
    """The user prompt: the request, marked so tools can find it again."""
    return f"Analyse this project request.\n{tagged('request', request_text.strip())}"


def discovery_agent(resolved: ResolvedModel) -> Agent[None, DiscoveryOutput]:
    """A fresh agent per run (agents are never built at import time)."""
    return Agent(
        output_type=output_spec(resolved, DiscoveryOutput),
        instructions=INSTRUCTIONS,
        retries={"output": OUTPUT_RETRIES},
        name="discovery",
    )


async def run_discovery(
    request_text: str, resolved: ResolvedModel, *, on_progress: Progress | None = None
) -> tuple[DiscoveryOutput, CallUsage]:
    """Ask the model for the analysis; returns it with the calls' usage."""
    result = await run_agent(
        discovery_agent(resolved),
        discovery_prompt(request_text),
        resolved,
        deps=None,
        on_progress=on_progress,
    )
    return result.output, usage_of(resolved, result.usage)
