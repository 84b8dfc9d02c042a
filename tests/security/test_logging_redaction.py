"""Secrets never reach the logs: keys, tokens and passwords are masked in structlog and stdlib records."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from masterplan.logging import configure_logging, redact

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure_logging("debug", stream=stream)
    yield stream
    structlog.reset_defaults()
    root.handlers, root.level = saved
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).propagate = True


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_structlog_events_are_json_with_secrets_masked(log_stream: io.StringIO) -> None:
    log = structlog.get_logger("masterplan.test")
    log.info(
        "calling provider",
        api_key="sk-ant-api03-very-secret-value",
        password="hunter2 hunter2",
        headers={"Authorization": f"Bearer {JWT}", "Accept": "application/json"},
        url="http://127.0.0.1:8000/?token=mp_abcdefghijklmnopqrstuvwxyz",
        output_tokens=1234,
        note=f"refresh with mpr_{'a' * 30} please",
    )
    (entry,) = lines(log_stream)
    text = json.dumps(entry)
    for secret in ("very-secret-value", "hunter2", JWT, "mp_abcdefghijklmnopqrstuvwxyz", "a" * 30):
        assert secret not in text
    assert entry["event"] == "calling provider" and entry["level"] == "info"
    assert entry["output_tokens"] == 1234
    assert entry["headers"] == {"Authorization": "[redacted]", "Accept": "application/json"}
    assert "timestamp" in entry


def test_stdlib_records_such_as_access_logs_are_masked(log_stream: io.StringIO) -> None:
    logging.getLogger("uvicorn.access").warning(
        '%s - "%s %s HTTP/1.1" %d', "127.0.0.1", "GET", "/?signin=mpc_onetimecode123456789&x=1", 200
    )
    logging.getLogger("httpx").error("connect to postgresql://app:s3cret-pw@db:5432/masterplan failed")
    first, second = lines(log_stream)
    assert "mpc_onetimecode" not in str(first["event"]) and "x=1" in str(first["event"])
    assert "s3cret-pw" not in str(second["event"]) and "postgresql://app:" in str(second["event"])


def test_redact_keeps_harmless_values() -> None:
    assert redact({"status": "ok", "count": 3, "nested": [{"token": "abc"}]}) == {
        "status": "ok",
        "count": 3,
        "nested": [{"token": "[redacted]"}],
    }
