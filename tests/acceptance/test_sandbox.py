"""The sandbox with real pytest subprocesses: secrets, timeouts, memory and fork bombs, network, output."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from masterplan.acceptance.confinement import Limits, network_mode
from masterplan.acceptance.sandbox import SandboxResult, run_sandboxed

MB = 1024 * 1024
LIMITS = Limits(timeout_seconds=3, cpu_seconds=3, memory_bytes=512 * MB, max_processes=32, output_bytes=8192)


def run_pytest(workspace: Path, code: str, limits: Limits = LIMITS) -> SandboxResult:
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "checks/test_it.py"]
    return run_sandboxed(argv, workspace, limits, {"checks/test_it.py": code})


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "core.py").write_text("VALUE = 41\n")
    return root


def leftover_sandbox_processes() -> list[str]:
    """Processes still running a sandboxed test (their command line names the copied test file)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"checks/test_it.py" in cmdline:
                found.append(entry.name)
    return found


def assert_server_unharmed() -> None:
    """This process can still start a process and allocate, and nothing of the test is left running."""
    assert subprocess.run(["true"], check=False).returncode == 0
    assert len(bytearray(50 * MB)) == 50 * MB
    assert leftover_sandbox_processes() == []


def test_a_passing_test_imports_the_workspace_code(workspace: Path) -> None:
    result = run_pytest(
        workspace, "from app.core import VALUE\n\ndef test_value():\n    assert VALUE + 1 == 42\n"
    )
    assert result.exit_code == 0, result.output
    assert "1 passed" in result.output
    assert not result.timed_out


def test_secrets_of_the_server_are_not_in_the_environment(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("MASTERPLAN_LOCAL_TOKEN", "mp_secret")
    code = (
        "import os\n\n"
        "def test_no_secrets():\n"
        "    print(sorted(os.environ))\n"
        "    assert os.environ.get('ANTHROPIC_API_KEY') is None\n"
        "    assert os.environ.get('OPENAI_API_KEY') is None\n"
        "    assert not [k for k in os.environ if k.startswith('MASTERPLAN_')]\n"
        "    assert os.environ['PATH'].split(':')[-3:] == ['/usr/local/bin', '/usr/bin', '/bin']\n"
        "    assert os.environ['HOME'] != os.path.expanduser('~root')\n"
    )
    result = run_pytest(workspace, code)
    assert result.exit_code == 0, result.output
    assert "secret" not in result.output


def test_a_test_sleeping_forever_is_killed_at_the_timeout(workspace: Path) -> None:
    started = time.monotonic()
    result = run_pytest(workspace, "import time\n\ndef test_sleep():\n    time.sleep(10_000)\n")
    assert result.timed_out
    assert result.exit_code is None
    assert 3 <= result.duration_seconds < 8
    assert time.monotonic() - started < 10
    assert "killed after the 3 s timeout" in result.output
    assert_server_unharmed()


def test_unbounded_allocation_is_stopped(workspace: Path) -> None:
    code = "def test_grow():\n    blocks = []\n    while True:\n        blocks.append(bytearray(20 * 1024 * 1024))\n"
    result = run_pytest(workspace, code)
    assert result.exit_code not in (0, None) or result.timed_out
    assert "MemoryError" in result.output or "killed" in result.output
    assert_server_unharmed()


def test_a_fork_bomb_is_stopped(workspace: Path) -> None:
    code = (
        "import os, time\n\n"
        "def test_bomb():\n"
        "    while True:\n"
        "        try:\n"
        "            os.fork()\n"
        "        except OSError:\n"
        "            time.sleep(0.01)\n"
    )
    started = time.monotonic()
    result = run_pytest(workspace, code)
    assert result.exit_code != 0
    assert time.monotonic() - started < 15
    assert_server_unharmed()


@pytest.mark.skipif(network_mode() == "none", reason="this platform refuses network namespaces")
def test_the_network_is_unreachable(workspace: Path) -> None:
    code = (
        "import socket, pytest\n\n"
        "def test_connect():\n"
        "    with pytest.raises(OSError):\n"
        "        socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
        "    assert [n for _, n in socket.if_nameindex()] in (['lo'], [])\n"
    )
    result = run_pytest(workspace, code)
    assert result.exit_code == 0, result.output
    assert "network isolated" in result.output


def test_big_files_are_refused(workspace: Path) -> None:
    limits = Limits(timeout_seconds=10, file_size_bytes=1 * MB)
    code = "def test_write(tmp_path):\n    (tmp_path / 'big').write_bytes(b'x' * (5 * 1024 * 1024))\n"
    result = run_pytest(workspace, code, limits)
    assert result.exit_code != 0
    assert "File too large" in result.output or "SIGXFSZ" in result.output


def test_output_is_truncated_head_and_tail(workspace: Path) -> None:
    # ~250 KB of output, far over the 8 KB kept; CPU enough for a slow machine (200,000 lines hit 3 s here).
    code = "def test_loud():\n    print('FIRST')\n    for i in range(20_000):\n        print('line', i)\n    assert False, 'LAST'\n"
    result = run_pytest(workspace, code, Limits(timeout_seconds=20, cpu_seconds=20, output_bytes=8192))
    assert result.exit_code == 1
    assert len(result.output) < 8192 + 1000
    assert "bytes of output omitted" in result.output
    assert "LAST" in result.output


def test_the_workspace_itself_is_never_changed(workspace: Path) -> None:
    code = (
        "import pathlib, shutil\n\n"
        "def test_vandal():\n"
        "    shutil.rmtree('app')\n"
        "    pathlib.Path('new.txt').write_text('x')\n"
    )
    result = run_pytest(workspace, code)
    assert result.exit_code == 0, result.output
    assert (workspace / "app" / "core.py").read_text() == "VALUE = 41\n"
    assert not (workspace / "new.txt").exists()
    assert sorted(os.listdir(workspace)) == ["app"]


def test_a_shell_command_reports_its_exit_code(workspace: Path) -> None:
    result = run_sandboxed(["/bin/sh", "-c", "test -f app/core.py && exit 3"], workspace, LIMITS)
    assert result.exit_code == 3


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another user needs root")
def test_a_root_server_runs_tests_as_the_sandbox_user(workspace: Path, tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    limits = Limits(timeout_seconds=10, uid=54321)
    script = (
        f"id -u; id -G; echo ok > mine.txt && cat mine.txt; touch {private}/x 2>/dev/null || echo refused"
    )
    result = run_sandboxed(["/bin/sh", "-c", script], workspace, limits)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:4] == ["54321", "54321", "ok", "refused"]
    assert not (private / "x").exists()
    assert "uid 54321" in result.output
