"""The operating-system fences around a sandboxed test: rlimits, a control group, a network namespace
and an optional drop of root privileges. What each platform allows is probed once per process.

The pre-exec function runs in the forked child before `exec`; everything it needs (numbers, paths, the
libc handle) is prepared in the parent, so the child only makes system calls.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import resource
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
NICENESS = 10
CGROUP_PREFIX = "masterplan-sandbox-"


@dataclass(frozen=True)
class Limits:
    """Per-run limits; sizes in bytes, times in seconds."""

    timeout_seconds: float = 60.0
    cpu_seconds: int = 60
    memory_bytes: int = 1024 * 1024 * 1024
    file_size_bytes: int = 64 * 1024 * 1024
    max_processes: int = 64
    max_open_files: int = 256
    output_bytes: int = 64 * 1024
    uid: int | None = None


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


def _unshare(flags: int) -> None:
    libc = _libc()
    if libc is None or libc.unshare(flags) != 0:
        errno = ctypes.get_errno() if libc else 0
        raise OSError(errno, f"unshare({flags:#x}) failed: {os.strerror(errno)}")


def _probe(preexec: Callable[[], None]) -> bool:
    try:
        subprocess.run(["true"], preexec_fn=preexec, check=True, timeout=10, capture_output=True)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


@functools.cache
def network_mode() -> str:
    """How a test's network is cut: `netns` (new network namespace), `userns` (unprivileged user plus
    network namespace) or `none` when the platform refuses both."""
    if _probe(lambda: _unshare(CLONE_NEWNET)):
        return "netns"
    if _probe(lambda: _unshare(CLONE_NEWUSER | CLONE_NEWNET)):
        return "userns"
    log.warning("sandbox_network_not_isolated", reason="unshare is not permitted here")
    return "none"


def _mounts() -> dict[str, Path]:
    """Mount point per cgroup v1 controller, and `unified` for cgroup v2."""
    found: dict[str, Path] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            left, _, right = line.partition(" - ")
            fields, extra = left.split(), right.split()
            if len(fields) < 5 or not extra:
                continue
            point = Path(fields[4])
            if extra[0] == "cgroup2":
                found.setdefault("unified", point)
            elif extra[0] == "cgroup" and len(extra) >= 3:
                for option in extra[2].split(","):
                    if option in ("pids", "memory"):
                        found.setdefault(option, point)
    return found


def _own_paths() -> dict[str, str]:
    """This process's cgroup path per v1 controller, and under `unified` for v2."""
    paths: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            number, _, rest = line.partition(":")
            controllers, _, path = rest.partition(":")
            if number == "0" and controllers == "":
                paths["unified"] = path
            for controller in controllers.split(","):
                if controller in ("pids", "memory"):
                    paths[controller] = path
    return paths


@dataclass
class ControlGroup:
    """The run's own control group(s): a process limit and a memory limit every descendant shares."""

    dirs: list[Path]
    procs_files: list[str]
    kind: str

    def kill_all(self) -> None:
        """SIGKILL every process still in the group, even those that left the process group."""
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, 9)
            os.sched_yield()

    def pids(self) -> list[int]:
        found: list[int] = []
        for procs in self.procs_files:
            with contextlib.suppress(OSError):
                found.extend(int(p) for p in Path(procs).read_text().split())
        return found

    def remove(self) -> None:
        self.kill_all()
        for path in self.dirs:
            for _ in range(100):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    os.sched_yield()


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _v1_group(mounts: dict[str, Path], own: dict[str, str], limits: Limits, name: str) -> ControlGroup | None:
    if "pids" not in mounts or "pids" not in own:
        return None
    dirs: list[Path] = []
    try:
        pids_dir = mounts["pids"] / own["pids"].lstrip("/") / name
        pids_dir.mkdir()
        dirs.append(pids_dir)
        _write(pids_dir / "pids.max", str(limits.max_processes))
        if "memory" in mounts and "memory" in own:
            memory_dir = mounts["memory"] / own["memory"].lstrip("/") / name
            memory_dir.mkdir()
            dirs.append(memory_dir)
            _write(memory_dir / "memory.limit_in_bytes", str(limits.memory_bytes))
    except OSError:
        ControlGroup(dirs, [], "v1").remove()
        return None
    return ControlGroup(dirs, [str(d / "cgroup.procs") for d in dirs], "v1")


def _v2_group(mounts: dict[str, Path], own: dict[str, str], limits: Limits, name: str) -> ControlGroup | None:
    if "unified" not in mounts or "unified" not in own:
        return None
    parent = mounts["unified"] / own["unified"].lstrip("/")
    try:
        enabled = (parent / "cgroup.subtree_control").read_text().split()
    except OSError:
        return None
    if "pids" not in enabled:
        return None
    path = parent / name
    try:
        path.mkdir()
        _write(path / "pids.max", str(limits.max_processes))
        if "memory" in enabled:
            _write(path / "memory.max", str(limits.memory_bytes))
    except OSError:
        ControlGroup([path], [], "v2").remove()
        return None
    return ControlGroup([path], [str(path / "cgroup.procs")], "v2")


def create_control_group(limits: Limits) -> ControlGroup | None:
    """A fresh control group for one run (cgroup v1, or v2 where pids is delegated); None where neither
    is writable, in which case only rlimits bound the processes."""
    name = f"{CGROUP_PREFIX}{uuid.uuid4().hex[:12]}"
    mounts, own = _mounts(), _own_paths()
    return _v1_group(mounts, own, limits, name) or _v2_group(mounts, own, limits, name)


def _user_task_count(uid: int) -> int:
    """Processes and threads this user runs now (RLIMIT_NPROC counts both)."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if os.stat(entry.path).st_uid == uid:
                count += len(os.listdir(f"{entry.path}/task"))
        except OSError:
            continue
    return count


@dataclass(frozen=True)
class Fences:
    """What a run enforces, decided in the parent; `describe()` is stored with every run's output."""

    limits: Limits
    network: str
    control_group: ControlGroup | None
    drop_to_uid: int | None
    nproc_limit: int

    def describe(self) -> list[str]:
        parts = [
            f"timeout {self.limits.timeout_seconds:g}s",
            f"cpu {self.limits.cpu_seconds}s",
            f"memory {self.limits.memory_bytes // (1024 * 1024)}MB",
            f"file size {self.limits.file_size_bytes // (1024 * 1024)}MB",
            f"processes {self.limits.max_processes}",
            "network isolated" if self.network != "none" else "network NOT isolated",
        ]
        if self.control_group:
            parts.append(f"cgroup {self.control_group.kind}")
        if self.drop_to_uid is not None:
            parts.append(f"uid {self.drop_to_uid}")
        return parts


def prepare_fences(limits: Limits) -> Fences:
    """Decide the fences of one run; the caller must `release_fences` afterwards."""
    is_root = os.geteuid() == 0
    drop = limits.uid if is_root and limits.uid else None
    if drop is not None or is_root:
        # A dedicated user starts with no processes; root ignores RLIMIT_NPROC (the cgroup bounds it).
        nproc = limits.max_processes
    else:
        # RLIMIT_NPROC counts every task of the user, the server's own threads included.
        nproc = _user_task_count(os.getuid()) + limits.max_processes
    return Fences(
        limits=limits,
        network=network_mode(),
        control_group=create_control_group(limits),
        drop_to_uid=drop,
        nproc_limit=nproc,
    )


def release_fences(fences: Fences) -> None:
    if fences.control_group:
        fences.control_group.remove()


def preexec_for(fences: Fences) -> Callable[[], None]:
    """The function the child runs between fork and exec: join the cgroup, cut the network, lower its
    priority, set the limits, drop privileges. Any failure aborts the run (the parent sees an error)."""
    limits = fences.limits
    procs_files = fences.control_group.procs_files if fences.control_group else []
    net_flags = {"netns": CLONE_NEWNET, "userns": CLONE_NEWUSER | CLONE_NEWNET}.get(fences.network, 0)
    cpu = limits.cpu_seconds
    rlimits = [
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes)),
        (resource.RLIMIT_FSIZE, (limits.file_size_bytes, limits.file_size_bytes)),
        (resource.RLIMIT_NOFILE, (limits.max_open_files, limits.max_open_files)),
        (resource.RLIMIT_NPROC, (fences.nproc_limit, fences.nproc_limit)),
    ]
    uid = fences.drop_to_uid
    _libc()  # loaded in the parent, so the child does not look it up

    def preexec() -> None:
        pid = str(os.getpid())
        for procs in procs_files:
            with open(procs, "w") as handle:
                handle.write(pid)
        if net_flags:
            _unshare(net_flags)
        os.nice(NICENESS)
        for which, values in rlimits:
            resource.setrlimit(which, values)
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)

    return preexec
