"""Run every benchmarks/*_bench.py (or those named on the command line), each in its own process.

Each benchmark prints its figures; the output is also kept in benchmarks/results/<name>.txt, what it
returned in <name>.json, and benchmarks/results/report.md and report.json gather every figure with its
target or baseline, the ratio and the machine (see benchmarks/report.py).
Run: .venv/bin/python -m benchmarks [execution plan_import ...]
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = sorted(p.stem for p in HERE.glob("*_bench.py"))
    wanted = [n if n.endswith("_bench") else f"{n}_bench" for n in argv]
    unknown = [n for n in wanted if n not in names]
    if unknown:
        print(f"unknown benchmarks {unknown}; known: {', '.join(names)}", file=sys.stderr)
        return 2
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    failed: list[str] = []
    outcomes: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for name in wanted or names:
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        process = subprocess.Popen(
            # report.run_one runs the benchmark and keeps its results as JSON for the report.
            [sys.executable, "-m", "benchmarks.report", "run", name, str(results / f"{name}.json")],
            cwd=HERE.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        lines: list[str] = []
        for line in process.stdout:
            if '"event"' in line or "llm_usage" in line:
                continue  # structured logs of the run, not figures
            print(line, end="", flush=True)
            lines.append(line)
        code = process.wait()
        outcomes[name], seconds[name] = ("ok" if code == 0 else f"exit {code}"), time.perf_counter() - start
        (results / f"{name}.txt").write_text("".join(lines))
        print(
            f"== {name}: {'ok' if code == 0 else f'exit {code}'} in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
        if code != 0:
            failed.append(name)
    from benchmarks.report import write_report

    print(f"report: {write_report(names, outcomes, seconds)} (and report.json)", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
