"""Which model plays which role: settings, overrides, complexity routing, defaults and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_ai.models.function import FunctionModel
from pydantic_ai.models.test import TestModel

from masterplan.config import Settings
from masterplan.errors import ConfigurationError
from masterplan.llm import describe_models, resolve_model
from masterplan.llm import models as llm_models
from masterplan.llm.retrying import RetryingModel


def make(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OLLAMA_BASE_URL"):
        monkeypatch.delenv(key, raising=False)


def test_per_role_overrides_and_the_default_model(tmp_path: Path) -> None:
    settings = make(tmp_path, model="sim", model_coder="sim:seed=2", model_chat="test")
    assert resolve_model("planner", settings).name == "sim"
    assert resolve_model("coder", settings).name == "sim:seed=2"
    assert resolve_model("chat", settings).name == "test"
    assert resolve_model("planner", settings, override="sim:tasks=5").name == "sim:tasks=5"


def test_coder_calls_are_routed_by_complexity(tmp_path: Path) -> None:
    settings = make(tmp_path, model="sim", model_coder="sim:seed=1", model_coder_strong="sim:seed=9")
    assert resolve_model("coder", settings, complexity="low").name == "sim:seed=1"
    assert resolve_model("coder", settings, complexity="medium").name == "sim:seed=1"
    assert resolve_model("coder", settings, complexity="high").name == "sim:seed=9"
    assert resolve_model("coder", settings, complexity="critical").name == "sim:seed=9"
    assert resolve_model("reviewer", settings, complexity="critical").name == "sim"


def test_every_model_is_wrapped_with_retries_and_timeouts(tmp_path: Path) -> None:
    settings = make(tmp_path, model="sim", llm_max_retries=5, llm_timeout_seconds=7)
    resolved = resolve_model("coder", settings)
    assert isinstance(resolved.model, RetryingModel)
    assert (resolved.model.max_retries, resolved.model.timeout_seconds) == (5, 7)
    assert isinstance(resolved.model.wrapped, FunctionModel)
    assert resolved.settings["timeout"] == 7


def test_an_api_key_selects_its_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert resolve_model("planner", make(tmp_path)).name == "openai:gpt-4.1"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    resolved = resolve_model("planner", make(tmp_path))
    assert resolved.name == "anthropic:claude-sonnet-4-5"
    assert resolved.spec.provider == "anthropic"


def test_without_keys_the_local_model_then_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(llm_models, "local_available", lambda: True)
    assert resolve_model("planner", make(tmp_path)).name == "local"
    monkeypatch.setattr(llm_models, "local_available", lambda: False)
    with pytest.raises(ConfigurationError) as raised:
        resolve_model("planner", make(tmp_path))
    message = str(raised.value)
    for hint in (
        "MASTERPLAN_MODEL=anthropic:",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "ollama:",
        "[local]",
        "sim",
    ):
        assert hint in message
    assert describe_models(make(tmp_path))["planner"].startswith("not configured")


def test_openai_compatible_servers_by_configuration(tmp_path: Path) -> None:
    settings = make(tmp_path, openai_base_url="http://127.0.0.1:9/v1")
    openai = resolve_model("planner", settings, override="openai:my-local-model")
    assert openai.model.base_url.rstrip("/") == "http://127.0.0.1:9/v1"
    ollama = resolve_model("planner", make(tmp_path), override="ollama:llama3.2")
    assert ollama.model.base_url.rstrip("/") == "http://127.0.0.1:11434/v1"
    assert ollama.output_mode == "native"


def test_function_models_load_from_a_module(tmp_path: Path) -> None:
    resolved = resolve_model("planner", make(tmp_path), override="function:tests.generation.fakes:valid")
    assert isinstance(resolved.model.wrapped, FunctionModel)  # type: ignore[attr-defined]
    assert resolved.name == "function:tests.generation.fakes:valid"
    test_model = resolve_model("planner", make(tmp_path), override="test")
    assert isinstance(test_model.model.wrapped, TestModel)  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match="has no attribute 'nope'"):
        resolve_model("planner", make(tmp_path), override="function:tests.generation.fakes:nope")
    with pytest.raises(ConfigurationError, match="cannot import"):
        resolve_model("planner", make(tmp_path), override="function:no_such_module_xyz:f")


def test_bad_names_and_options_are_configuration_errors(tmp_path: Path) -> None:
    settings = make(tmp_path)
    with pytest.raises(ConfigurationError, match="unknown model"):
        resolve_model("planner", settings, override="gpt4")
    with pytest.raises(ConfigurationError, match="unknown sim option 'speed'"):
        resolve_model("planner", settings, override="sim:speed=3")
    with pytest.raises(ConfigurationError, match="not a number"):
        resolve_model("planner", settings, override="sim:latency=fast")
    with pytest.raises(ConfigurationError, match="ANTHROPIC_API_KEY"):
        resolve_model("planner", settings, override="anthropic:claude-sonnet-4-5")


def test_describe_models_names_each_role(tmp_path: Path) -> None:
    settings = make(tmp_path, model="sim", model_reviewer="test", model_coder_strong="sim:seed=3")
    described = describe_models(settings)
    assert described["discovery"] == "sim"
    assert described["reviewer"] == "test"
    assert described["coder (high, critical)"] == "sim:seed=3"
    assert set(described) >= {"discovery", "planner", "coder", "reviewer", "chat"}
