"""Every call records its model, tokens and cost; an unknown price leaves the cost unknown."""

from __future__ import annotations

from pydantic_ai.usage import RunUsage

from masterplan.llm import CallUsage, UsageRecorder, price_usd, usage_of


def test_known_prices_give_a_cost() -> None:
    usage = usage_of(
        "anthropic:claude-sonnet-4-5", RunUsage(input_tokens=1_000_000, output_tokens=100_000, requests=2)
    )
    assert usage.model == "anthropic:claude-sonnet-4-5"
    assert (usage.input_tokens, usage.output_tokens, usage.requests) == (1_000_000, 100_000, 2)
    assert usage.cost_usd is not None and usage.cost_usd > 1


def test_unknown_prices_keep_tokens_and_leave_cost_unknown() -> None:
    usage = usage_of("openai:a-model-nobody-prices", RunUsage(input_tokens=500, output_tokens=50, requests=1))
    assert usage.cost_usd is None
    assert (usage.input_tokens, usage.output_tokens) == (500, 50)


def test_sim_prices_come_from_its_options() -> None:
    assert price_usd("sim:price_in=2,price_out=10", 1_000_000, 100_000) == 3.0
    assert price_usd("local", 10_000, 10_000) == 0.0


def test_totals_add_up_and_an_unknown_cost_stays_unknown() -> None:
    recorder = UsageRecorder.start()
    recorder.add(CallUsage(model="sim", input_tokens=10, output_tokens=5, requests=1, cost_usd=0.5))
    total = recorder.add(CallUsage(model="sim", input_tokens=1, output_tokens=1, requests=1, cost_usd=0.25))
    assert (total.model, total.input_tokens, total.output_tokens, total.requests, total.cost_usd) == (
        "sim",
        11,
        6,
        2,
        0.75,
    )
    mixed = total + CallUsage(
        model="openai:unpriced", input_tokens=1, output_tokens=1, requests=1, cost_usd=None
    )
    assert mixed.cost_usd is None
    assert mixed.model == "sim, openai:unpriced"
    assert mixed.input_tokens == 12
