"""Per-call price from model name and token usage, offline (genai-prices' bundled list)."""

from __future__ import annotations

from genai_prices import Usage, calc_price
from genai_prices.data_snapshot import get_snapshot

from masterplan.llm.spec import ModelSpec, parse_model_spec


def load_prices() -> None:
    """Load the bundled price list now (about 0.2 s), not in the first model call of a run.

    pydantic-ai loads it when a model is built, under the import lock: every task of a run's first wave
    waited for it.
    """
    get_snapshot()


def price_usd(model: str | ModelSpec, input_tokens: int, output_tokens: int) -> float | None:
    """Dollar cost of one call; 0 for in-process models, None when the price is unknown."""
    spec = parse_model_spec(model) if isinstance(model, str) else model
    if spec.provider in ("local", "function", "test"):
        return 0.0
    if spec.provider == "sim":
        per_million_in = float(spec.options.get("price_in", 1.0))
        per_million_out = float(spec.options.get("price_out", 4.0))
        return (input_tokens * per_million_in + output_tokens * per_million_out) / 1_000_000
    provider = spec.provider if spec.provider in ("anthropic", "openai") else None
    try:
        result = calc_price(
            Usage(input_tokens=input_tokens, output_tokens=output_tokens),
            model_ref=spec.name,
            provider_id=provider,
        )
    except LookupError:
        return None
    return float(result.total_price)
