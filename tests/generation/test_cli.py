"""`masterplan plan "<request>"`: progress, then the plan tree, with DBOS launched in the CLI process."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from masterplan.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def dbos_logs_outlive_the_runner() -> Iterator[None]:
    """DBOS binds its log handler to the stderr of its first launch; CliRunner closes that stream."""
    yield
    for handler in logging.getLogger("dbos").handlers:
        if type(handler) is logging.StreamHandler and getattr(handler.stream, "closed", False):
            handler.stream = sys.__stderr__


def env(tmp_path: Path, db_url: str, **extra: str) -> dict[str, str]:
    return {
        "MASTERPLAN_DATA_DIR": str(tmp_path / "data"),
        "MASTERPLAN_DATABASE_URL": db_url,
        "MASTERPLAN_LLM_RETRY_BACKOFF_SECONDS": "0.01",
        "COLUMNS": "200",
        **extra,
    }


def test_plan_with_sim_prints_models_progress_and_the_tree(tmp_path: Path, db_url: str) -> None:
    result = runner.invoke(
        app, ["plan", "a todo REST API with users", "--model", "sim:tasks=9"], env=env(tmp_path, db_url)
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"planner\s+│\s+sim:tasks=9", result.output)
    assert "Discovery" in result.output and "Planning" in result.output
    assert "Todo Rest Api Users" in result.output
    assert "#9" in result.output
    assert "tokens" in result.output
    assert "masterplan plans approve" in result.output


def test_plan_failure_is_a_readable_error(tmp_path: Path, db_url: str) -> None:
    model = "function:tests.generation.fakes:always_cycle"
    result = runner.invoke(app, ["plan", "a todo REST API", "--model", model], env=env(tmp_path, db_url))
    assert result.exit_code == 1
    assert "generation failed" in result.output
    assert "dependency cycle" in result.output


def test_plan_with_an_unknown_model_says_what_is_accepted(tmp_path: Path, db_url: str) -> None:
    result = runner.invoke(app, ["plan", "a todo API", "--model", "gpt4"], env=env(tmp_path, db_url))
    assert result.exit_code == 1
    assert "configuration error" in result.output
    assert "anthropic:<model>" in result.output
