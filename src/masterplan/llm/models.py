"""Which model plays which role: settings, per-role overrides, complexity routing and defaults."""

from __future__ import annotations

import importlib
import inspect
import os
from dataclasses import dataclass
from typing import Any, Literal

from pydantic_ai.exceptions import UserError
from pydantic_ai.models import Model
from pydantic_ai.models.function import FunctionModel
from pydantic_ai.models.test import TestModel
from pydantic_ai.settings import ModelSettings

from masterplan.config import Settings
from masterplan.errors import ConfigurationError
from masterplan.llm.local import local_available, local_model
from masterplan.llm.retrying import RetryingModel
from masterplan.llm.roles import ROLES, Role
from masterplan.llm.sim import sim_model
from masterplan.llm.spec import ModelSpec, parse_model_spec

DEFAULT_ANTHROPIC = "anthropic:claude-sonnet-4-5"
DEFAULT_OPENAI = "openai:gpt-4.1"
OLLAMA_BASE_URL = "http://127.0.0.1:11434/v1"
STRONG_COMPLEXITIES = ("high", "critical")
HOW_TO_CONFIGURE = (
    "no model is configured. Choose one of: "
    "MASTERPLAN_MODEL=anthropic:claude-sonnet-4-5 with ANTHROPIC_API_KEY set; "
    "MASTERPLAN_MODEL=openai:gpt-4.1 with OPENAI_API_KEY set; "
    "MASTERPLAN_MODEL=ollama:<model> for a local Ollama server (MASTERPLAN_OPENAI_BASE_URL to move it); "
    "MASTERPLAN_MODEL=local after pip install 'masterplan[local]'; "
    "or MASTERPLAN_MODEL=sim for the offline simulator"
)

OutputMode = Literal["tool", "native"]


@dataclass(frozen=True)
class ResolvedModel:
    """A role's model: its parsed spec, the name used for display and pricing, and the pydantic-ai model."""

    spec: ModelSpec
    name: str
    model: Model
    settings: ModelSettings
    output_mode: OutputMode = "tool"

    @property
    def streams(self) -> bool:
        """Whether requests can be streamed (token progress and chat chunks as they come)."""
        inner = self.model.wrapped if isinstance(self.model, RetryingModel) else self.model
        if isinstance(inner, FunctionModel):
            return inner.stream_function is not None
        return not isinstance(inner, TestModel)

    @property
    def streams_structured(self) -> bool:
        """Whether structured answers are streamed for progress (hosted and server models only; the
        simulator and in-process models answer in one piece with exact usage)."""
        return self.spec.provider in ("anthropic", "openai", "ollama") and self.streams

    @property
    def weak(self) -> bool:
        """A small in-process model whose answers get mechanical repairs before validation."""
        return self.spec.provider == "local"


def default_model_name() -> str:
    """The model used when nothing is configured: an API key's provider, else the local model."""
    if os.environ.get("ANTHROPIC_API_KEY"):
        return DEFAULT_ANTHROPIC
    if os.environ.get("OPENAI_API_KEY"):
        return DEFAULT_OPENAI
    if local_available():
        return "local"
    raise ConfigurationError(HOW_TO_CONFIGURE)


def configured_name(role: Role, settings: Settings, *, complexity: str | None = None) -> str:
    """The model name a role uses under these settings, before any per-call override."""
    if role == "coder" and complexity in STRONG_COMPLEXITIES and settings.model_coder_strong:
        return settings.model_coder_strong
    per_role = {
        "discovery": settings.model_discovery,
        "planner": settings.model_planner,
        "coder": settings.model_coder,
        "reviewer": settings.model_reviewer,
        "chat": settings.model_chat,
    }[role]
    return per_role or settings.model or default_model_name()


def resolve_model(
    role: Role,
    settings: Settings,
    *,
    complexity: str | None = None,
    override: str | None = None,
) -> ResolvedModel:
    """Build the model for a role; `override` (a model name) wins over every setting."""
    spec = parse_model_spec(override or configured_name(role, settings, complexity=complexity))
    model, output_mode = _build(spec, settings)
    model_settings: ModelSettings = {"timeout": settings.llm_timeout_seconds, "max_retries": 0}
    # An in-process call cannot be cancelled (its thread runs on); its token limits bound it instead.
    timeout = None if spec.provider == "local" else settings.llm_timeout_seconds
    wrapped = RetryingModel(
        model,
        max_retries=settings.llm_max_retries,
        timeout_seconds=timeout,
        backoff_seconds=settings.llm_retry_backoff_seconds,
    )
    return ResolvedModel(
        spec=spec, name=str(spec), model=wrapped, settings=model_settings, output_mode=output_mode
    )


def describe_models(settings: Settings) -> dict[str, str]:
    """The model each role uses, for printing at start; a misconfiguration shows as its message."""
    described: dict[str, str] = {}
    for role in ROLES:
        try:
            described[role] = str(parse_model_spec(configured_name(role, settings)))
        except ConfigurationError as exc:
            described[role] = f"not configured ({exc})"
    if settings.model_coder_strong:
        described["coder (high, critical)"] = settings.model_coder_strong
    return described


def _build(spec: ModelSpec, settings: Settings) -> tuple[Model, OutputMode]:
    provider = spec.provider
    try:
        if provider == "sim":
            return sim_model(spec.options, name=str(spec)), "tool"
        if provider == "local":
            return local_model(spec.name or None, name=str(spec)), "tool"
        if provider == "function":
            return load_function_model(spec.name), "tool"
        if provider == "test":
            return TestModel(), "tool"
        if provider == "anthropic":
            from pydantic_ai.models.anthropic import AnthropicModel
            from pydantic_ai.providers.anthropic import AnthropicProvider

            return AnthropicModel(spec.name, provider=AnthropicProvider()), "tool"
        if provider == "openai":
            from pydantic_ai.models.openai import OpenAIChatModel
            from pydantic_ai.providers.openai import OpenAIProvider

            base_url = settings.openai_base_url or None
            api_key = os.environ.get("OPENAI_API_KEY") or ("not-needed" if base_url else None)
            return OpenAIChatModel(
                spec.name, provider=OpenAIProvider(base_url=base_url, api_key=api_key)
            ), "tool"
        if provider == "ollama":
            from pydantic_ai.models.ollama import OllamaModel
            from pydantic_ai.providers.ollama import OllamaProvider

            base_url = settings.openai_base_url or os.environ.get("OLLAMA_BASE_URL") or OLLAMA_BASE_URL
            # Self-hosted Ollama constrains decoding by the JSON schema: native structured output.
            return OllamaModel(spec.name, provider=OllamaProvider(base_url=base_url)), "native"
    except UserError as exc:
        raise ConfigurationError(f"model {spec}: {exc}") from None
    raise ConfigurationError(f"model {spec}: provider {provider!r} is not supported")


def load_function_model(target: str) -> Model:
    """`module:callable`: a FunctionModel function (or async generator for streaming) or a Model instance."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ConfigurationError(f"function model {target!r} must look like function:<module>:<callable>")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(f"function model: cannot import {module_name!r}: {exc}") from None
    obj: Any = getattr(module, attribute, None)
    if obj is None:
        raise ConfigurationError(f"function model: {module_name!r} has no attribute {attribute!r}")
    if isinstance(obj, Model):
        return obj
    if not callable(obj):
        raise ConfigurationError(f"function model: {target!r} is not callable")
    name = f"function:{target}"
    if inspect.isasyncgenfunction(obj):
        return FunctionModel(stream_function=obj, model_name=name)
    return FunctionModel(obj, model_name=name)
