"""Running one acceptance test in a sandbox: a subprocess in a throwaway copy of the workspace, with a
timeout, resource limits, a scrubbed environment and (where permitted) no network. See docs/sandbox.md.

    run_sandboxed(argv, workspace, limits, files=None) -> SandboxResult   (blocking)
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from masterplan.acceptance.confinement import Fences, Limits, preexec_for, prepare_fences, release_fences
from masterplan.config import Settings

SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
COPY_IGNORE = shutil.ignore_patterns(".git", "node_modules", ".venv", "venv", "__pycache__", ".pytest_cache")
MB = 1024 * 1024
READ_CHUNK = 65536


@dataclass(frozen=True)
class SandboxResult:
    exit_code: int | None  # None when the run was killed at the timeout or never started
    output: str
    duration_seconds: float
    timed_out: bool
    fences: list[str] = field(default_factory=list)


def limits_from_settings(settings: Settings) -> Limits:
    return Limits(
        timeout_seconds=settings.acceptance_timeout_seconds,
        cpu_seconds=settings.acceptance_cpu_seconds,
        memory_bytes=settings.acceptance_memory_mb * MB,
        file_size_bytes=settings.acceptance_file_size_mb * MB,
        max_processes=settings.acceptance_max_processes,
        output_bytes=settings.acceptance_output_bytes,
        uid=settings.sandbox_uid,
    )


def scrubbed_environment(work: Path, home: Path, tmp: Path) -> dict[str, str]:
    """Nothing inherited from the server: no API keys, no MASTERPLAN_* values, no proxies or tokens."""
    return {
        "PATH": f"{Path(sys.executable).parent}:{SAFE_PATH}",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "USER": "sandbox",
        "LOGNAME": "sandbox",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": str(work),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "NO_COLOR": "1",
        # Plugins installed beside the server are not the project's; loading them all costs seconds.
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }


class OutputBuffer:
    """Keeps the first and the last half of the byte budget; the middle of a flood is dropped."""

    def __init__(self, limit: int) -> None:
        self.head_limit = limit // 2
        self.head = bytearray()
        self.tail: collections.deque[bytes] = collections.deque()
        self.tail_size = 0
        self.tail_limit = limit - self.head_limit
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head.extend(chunk[:room])
            chunk = chunk[room:]
        if not chunk:
            return
        self.tail.append(chunk)
        self.tail_size += len(chunk)
        while self.tail_size - len(self.tail[0]) >= self.tail_limit:
            self.tail_size -= len(self.tail.popleft())

    def text(self) -> str:
        tail = b"".join(self.tail)[-self.tail_limit :] if self.tail else b""
        dropped = self.total - len(self.head) - len(tail)
        middle = f"\n[... {dropped} bytes of output omitted ...]\n".encode() if dropped > 0 else b""
        return (bytes(self.head) + middle + tail).decode("utf-8", errors="replace")


def _drain(stream: object, buffer: OutputBuffer) -> None:
    read = stream.read  # type: ignore[attr-defined]
    while True:
        try:
            chunk = read(READ_CHUNK)
        except (OSError, ValueError):
            return
        if not chunk:
            return
        buffer.add(chunk)


def _prepare_scratch(workspace: Path, files: Mapping[str, str], uid: int | None) -> tuple[Path, Path]:
    scratch = Path(tempfile.mkdtemp(prefix="masterplan-sandbox-"))
    work = scratch / "work"
    if workspace.is_dir():
        shutil.copytree(workspace, work, symlinks=True, ignore=COPY_IGNORE)
    else:
        work.mkdir()
    for relative, content in files.items():
        target = work / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    for name in ("home", "tmp"):
        (scratch / name).mkdir()
    if uid is not None:
        for root, dirs, names in os.walk(scratch):
            for name in [*dirs, *names]:
                os.lchown(os.path.join(root, name), uid, uid)
        os.chown(scratch, uid, uid)
    return scratch, work


def _kill(process: subprocess.Popen[bytes], fences: Fences) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if fences.control_group:
        fences.control_group.kill_all()


def run_sandboxed(
    argv: list[str], workspace: Path, limits: Limits, files: Mapping[str, str] | None = None
) -> SandboxResult:
    """Run argv in a copy of the workspace (plus `files`); the copy is deleted afterwards."""
    fences = prepare_fences(limits)
    drop = fences.drop_to_uid
    scratch, work = _prepare_scratch(workspace, files or {}, drop)
    started = time.monotonic()
    try:
        try:
            process = subprocess.Popen(
                argv,
                cwd=work,
                env=scrubbed_environment(work, scratch / "home", scratch / "tmp"),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
                preexec_fn=preexec_for(fences),
            )
        except (OSError, subprocess.SubprocessError) as exc:
            message = f"[sandbox] the test could not start: {exc}"
            return SandboxResult(None, message, time.monotonic() - started, False, fences.describe())
        buffer = OutputBuffer(limits.output_bytes)
        reader = threading.Thread(target=_drain, args=(process.stdout, buffer), daemon=True)
        reader.start()
        timed_out = False
        try:
            process.wait(timeout=limits.timeout_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            # Also reaps children left behind by a test that exited (or was killed) first.
            _kill(process, fences)
            process.wait()
        reader.join(timeout=5)
        if process.stdout:
            process.stdout.close()
        duration = time.monotonic() - started
        return SandboxResult(
            exit_code=None if timed_out else process.returncode,
            output=buffer.text() + _footer(process.returncode, timed_out, limits, fences),
            duration_seconds=duration,
            timed_out=timed_out,
            fences=fences.describe(),
        )
    finally:
        release_fences(fences)
        shutil.rmtree(scratch, ignore_errors=True)


def _footer(returncode: int, timed_out: bool, limits: Limits, fences: Fences) -> str:
    lines = []
    if timed_out:
        lines.append(f"[sandbox] killed after the {limits.timeout_seconds:g} s timeout")
    elif returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else str(-returncode)
        lines.append(f"[sandbox] killed by {name} (a resource limit was reached)")
    lines.append("[sandbox] " + ", ".join(fences.describe()))
    return "\n" + "\n".join(lines) + "\n"
