"""Model names as users write them: `anthropic:<m>`, `openai:<m>`, `local[:path]`, `sim[:k=v,...]`,
`function:<module>:<callable>`."""

from __future__ import annotations

from dataclasses import dataclass, field

from masterplan.errors import ConfigurationError

KNOWN_PROVIDERS = ("anthropic", "openai", "local", "sim", "function", "test", "ollama")


@dataclass(frozen=True)
class ModelSpec:
    provider: str
    name: str = ""
    options: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.provider == "sim":
            opts = ",".join(f"{k}={v}" for k, v in self.options.items())
            return f"sim:{opts}" if opts else "sim"
        return f"{self.provider}:{self.name}" if self.name else self.provider


def parse_model_spec(text: str) -> ModelSpec:
    """Parse a model name; raise ConfigurationError saying what forms are accepted."""
    text = text.strip()
    provider, _, rest = text.partition(":")
    if provider not in KNOWN_PROVIDERS:
        raise ConfigurationError(
            f"unknown model {text!r}: use anthropic:<model>, openai:<model>, ollama:<model>, "
            "local, local:<path.gguf>, sim or function:<module>:<callable>"
        )
    if provider == "sim":
        options: dict[str, str] = {}
        for part in filter(None, rest.split(",")):
            key, sep, value = part.partition("=")
            if not sep:
                raise ConfigurationError(f"sim option {part!r} must look like key=value")
            options[key.strip()] = value.strip()
        return ModelSpec("sim", "", options)
    if provider in ("anthropic", "openai", "ollama", "function") and not rest:
        raise ConfigurationError(f"model {text!r} needs a name after '{provider}:'")
    return ModelSpec(provider, rest)
