"""The benchmark report: figures read from each benchmark's results, ratios against targets or baselines,
the machine section; a benchmark whose results changed shape still has its numbers reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import report


def test_ratios_compare_with_the_target_or_else_the_baseline() -> None:
    fast = report.Figure("x", "latency", 40, "ms", target=50)
    slow = report.Figure("x", "latency", 75, "ms", target=50)
    assert (fast.ratio, fast.meets, slow.ratio, slow.meets) == (0.8, True, 1.5, False)
    throughput = report.Figure("x", "throughput", 5, "tasks/s", baseline=10, better="higher")
    assert throughput.ratio == 0.5 and throughput.meets is None  # a baseline is a comparison, not a promise
    assert report.Figure("x", "n", 3, "").ratio is None


def test_every_benchmark_s_results_become_figures() -> None:
    found = report.figures("plan_import_bench", [{"database": "sqlite", "import_s": 0.5, "detail_s": 0.2}])
    assert [(f.value, f.target, f.meets) for f in found] == [(500, 1000, True), (200, 150, False)]
    scale = report.figures(
        "scale_bench",
        [
            {
                "workers": 2,
                "plans": 1,
                "tasks": 500,
                "makespan_s": 60.0,
                "wave_bound_s": 50.0,
                "waves": 51,
                "throughput_tasks_per_s": 8.0,
                "bound_throughput_tasks_per_s": 10.0,
                "cpu_s": {"worker-1": 20.0},
            }
        ],
    )
    assert [(f.unit, f.ratio) for f in scale] == [("s", 1.2), ("tasks/s", 0.8)]
    realtime = report.figures(
        "realtime_bench",
        [
            {
                "path": "redis",
                "clients": 50,
                "events": 1000,
                "rate_per_s": 100.0,
                "p50_ms": 9.0,
                "p99_ms": 80.0,
            }
        ],
    )
    assert realtime[0].target == 100.0 and realtime[0].meets is True


def test_a_changed_result_shape_is_still_reported() -> None:
    found = report.figures("plan_import_bench", [{"database": "sqlite", "import_seconds": 0.5}])
    assert any(f.value == 0.5 for f in found)
    assert any("adapter failed" in f.name for f in found)


def test_the_report_names_the_machine_and_lists_every_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    (tmp_path / "plan_import_bench.json").write_text(
        json.dumps([{"database": "postgresql", "import_s": 0.9, "detail_s": 0.1}])
    )
    path = report.write_report(["plan_import_bench", "scale_bench"], {"plan_import_bench": "ok"}, {})
    text = path.read_text()
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["machine"]["cores"] >= 1 and data["machine"]["python"]
    assert len(data["figures"]) == 2 and data["benchmarks"]["scale_bench"]["outcome"] == "not run"
    assert "## Machine" in text and "cores" in text and "postgresql: import 500 tasks" in text
