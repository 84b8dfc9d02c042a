"""One model layer over pydantic-ai: which model plays which role, retries, usage and cost.

Model names: `anthropic:<m>`, `openai:<m>` (any OpenAI-compatible server via MASTERPLAN_OPENAI_BASE_URL),
`ollama:<m>`, `local[:<path.gguf>]`, `sim[:k=v,...]` (offline simulator), `function:<module>:<callable>`.
"""

from masterplan.llm.models import ResolvedModel, configured_name, describe_models, resolve_model
from masterplan.llm.pricing import price_usd
from masterplan.llm.roles import (
    ROLES,
    CoderOutput,
    GeneratedFile,
    ReviewSuggestionsOutput,
    Role,
    coder_context_block,
)
from masterplan.llm.run import output_spec, run_agent
from masterplan.llm.spec import ModelSpec, parse_model_spec
from masterplan.llm.usage import CallUsage, UsageRecorder, usage_of

__all__ = [
    "ROLES",
    "CallUsage",
    "CoderOutput",
    "GeneratedFile",
    "ModelSpec",
    "ResolvedModel",
    "ReviewSuggestionsOutput",
    "Role",
    "UsageRecorder",
    "coder_context_block",
    "configured_name",
    "describe_models",
    "output_spec",
    "parse_model_spec",
    "price_usd",
    "resolve_model",
    "run_agent",
    "usage_of",
]
