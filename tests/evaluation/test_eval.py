"""`masterplan eval` with the sim model: real embedded stacks, two models side by side."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from masterplan.cli import app
from masterplan.cli.evaluate import split_models
from masterplan.evaluation.runner import sample_requests

runner = CliRunner()


def test_at_least_six_sample_projects_from_cli_to_rest_api() -> None:
    samples = sample_requests()
    assert len(samples) >= 6
    assert {"CLI tool", "REST API with persistence"} <= {s.kind for s in samples}
    assert len({s.name for s in samples}) == len(samples)


def test_model_lists_keep_options_together() -> None:
    assert split_models("sim:latency=1,seed=2,local,anthropic:claude-x") == [
        "sim:latency=1,seed=2",
        "local",
        "anthropic:claude-x",
    ]


def test_eval_compares_models_and_writes_markdown_and_json(tmp_path: Path) -> None:
    models = "sim:latency=0.01,tasks=6,seed=1,sim:latency=0.01,tasks=6,seed=1,fail_tasks=2"
    result = runner.invoke(
        app,
        ["eval", "--models", models, "--only", "todo-cli", "--output", str(tmp_path / "out")],
        env={"MASTERPLAN_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "eval.json").read_text())
    good, flaky = data["results"]
    assert good["outcome"] == "completed" and good["tasks"] == good["completed"] > 0
    assert good["first_pass_rate"] == 1.0 and good["tokens"] > 0
    assert flaky["failed"] == 1 and flaky["completed"] < flaky["tasks"]
    assert set(data["overall"]) == {
        "sim:latency=0.01,tasks=6,seed=1",
        "sim:latency=0.01,tasks=6,seed=1,fail_tasks=2",
    }
    markdown = (tmp_path / "out" / "eval.md").read_text()
    assert "| first_pass_rate |" in markdown and "todo-cli" in markdown
