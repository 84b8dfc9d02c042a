"""A minimal valid instance of any JSON schema: the simulator's answer to output shapes it does not know."""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 12


# Values that satisfy the string formats pydantic writes into schemas.
FORMATTED = {
    "uuid": "00000000-0000-4000-8000-000000000000",
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "email": "sim@example.com",
    "uri": "https://example.com/",
}


def minimal_instance(schema: dict[str, Any]) -> Any:
    """Build the smallest value the schema accepts (required fields, minimum lengths and counts)."""
    return _build(schema, schema.get("$defs", {}), 0, "value")


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < MAX_DEPTH:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        schema = {**defs.get(name, {}), **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema


def _build(schema: dict[str, Any], defs: dict[str, Any], depth: int, name: str) -> Any:
    schema = _resolve(schema, defs)
    if depth > MAX_DEPTH:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        options = [o for o in schema.get(key, []) if _resolve(o, defs).get("type") != "null"]
        if options:
            return _build(options[0], defs, depth + 1, name)
        if schema.get(key):
            return None
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_resolve(part, defs))
        return _build(merged, defs, depth + 1, name)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        props: dict[str, Any] = schema.get("properties", {})
        return {key: _build(props.get(key, {}), defs, depth + 1, key) for key in schema.get("required", [])}
    if kind == "array":
        count = int(schema.get("minItems", 0))
        items = schema.get("items", {})
        return [_build(items, defs, depth + 1, f"{name}_{i}") for i in range(count)]
    if kind == "string" and schema.get("format") in FORMATTED:
        return FORMATTED[schema["format"]]
    if kind == "string":
        text = f"sim {name}"
        low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
        if len(text) < low:
            text = text + "x" * (low - len(text))
        return text[: int(high)] if high is not None else text
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1))
    if kind == "number":
        return float(schema.get("minimum", 0.0))
    if kind == "boolean":
        return False
    return None
