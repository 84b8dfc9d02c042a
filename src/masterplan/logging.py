"""Structured JSON logs (structlog, also for the standard library's loggers) with secrets redacted.

Values under secret-looking keys (password, token, api_key, authorization, cookie, ...) are replaced,
and token-shaped text anywhere in a message (API tokens, JWTs, bearer headers, `?token=` in URLs,
provider keys, passwords in URLs) is masked, so a leaked value never reaches a log file.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.types import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"
SECRET_KEY = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api[_-]?key|authorization|cookie|credential|private[_-]?key|"
    r"signin[_-]?code",
    re.IGNORECASE,
)
SECRET_TEXT = [
    (re.compile(r"\beyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]+"), REDACTED),  # JWT
    (re.compile(r"\bmp[rc]?_[\w-]{12,}"), REDACTED),  # our API, refresh and sign-in tokens
    (re.compile(r"\bsk-[\w-]{12,}"), REDACTED),  # OpenAI / Anthropic style keys
    (re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]+"), r"\1 " + REDACTED),
    (re.compile(r"(?i)([?&](?:token|signin|code|password|api_key|key|secret)=)[^&\s\"']+"), r"\1" + REDACTED),
    (re.compile(r"(://[^/\s:@]+:)[^@\s/]+@"), r"\1" + REDACTED + "@"),  # user:password@host
]


def scrub_text(text: str) -> str:
    for pattern, replacement in SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any, key: str = "") -> Any:
    """A copy of `value` with secrets masked; numbers under key names like `output_tokens` are kept."""
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [redact(item, key) for item in value]
    if isinstance(value, bool | int | float) or value is None:
        return value
    if key and SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, bytes):
        return scrub_text(value.decode("utf-8", "replace"))
    return scrub_text(str(value)) if _has_secret_repr(value) else value


def _has_secret_repr(value: Any) -> bool:
    text = str(value)
    return scrub_text(text) != text


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secrets in every key and value of the event."""
    return {key: value if key.startswith("_") else redact(value, key) for key, value in event_dict.items()}


def configure_logging(level: str = "info", *, stream: TextIO | None = None, json_logs: bool = True) -> None:
    """Route structlog and standard-library logging through one redacting JSON (or console) renderer."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            redact_secrets,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.processors.format_exc_info],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, redact_secrets, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # Migration chatter at every start is noise, not information.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
