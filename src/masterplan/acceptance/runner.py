"""Turning a stored acceptance test into a sandboxed run: a pytest module or a shell command."""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from masterplan.acceptance.confinement import Limits
from masterplan.acceptance.sandbox import SandboxResult, run_sandboxed
from masterplan.models import AcceptanceTest
from masterplan.workspace.paths import slugify

TEST_DIR = "_masterplan_acceptance"


@dataclass(frozen=True)
class TestJob:
    """A test's definition, detached from the session so it can run outside any transaction."""

    __test__ = False  # not a pytest class

    id: uuid.UUID
    name: str
    priority: str
    kind: str
    pytest_code: str | None
    command: str | None
    expected_exit_code: int

    @classmethod
    def of(cls, test: AcceptanceTest) -> TestJob:
        return cls(
            id=test.id,
            name=test.name,
            priority=test.priority,
            kind=test.kind,
            pytest_code=test.pytest_code,
            command=test.command,
            expected_exit_code=test.expected_exit_code,
        )


def invocation(job: TestJob) -> tuple[list[str], dict[str, str]]:
    """The argv and the extra files of a run (paths relative to the workspace copy)."""
    if job.kind == "pytest":
        path = f"{TEST_DIR}/test_{slugify(job.name, 40).replace('-', '_')}_{job.id.hex[:8]}.py"
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--color=no", path]
        return argv, {path: job.pytest_code or ""}
    return ["/bin/sh", "-c", job.command or "false"], {}


def run_test(job: TestJob, workspace: Path, limits: Limits) -> tuple[bool, SandboxResult]:
    """Run one test in the sandbox; it passes when it ends in time with the expected exit code."""
    argv, files = invocation(job)
    result = run_sandboxed(argv, workspace, limits, files)
    expected = 0 if job.kind == "pytest" else job.expected_exit_code
    passed = not result.timed_out and result.exit_code == expected
    return passed, result


def outcome_message(passed: bool, result: SandboxResult, job: TestJob) -> str:
    """One line for the event and the CLI."""
    if result.timed_out:
        return f"killed after the timeout ({result.duration_seconds:.1f} s)"
    if result.exit_code is None:
        return "could not start"
    verdict = "passed" if passed else "failed"
    expected = 0 if job.kind == "pytest" else job.expected_exit_code
    return f"{verdict}: exit code {result.exit_code} (expected {expected}) in {result.duration_seconds:.1f} s"
