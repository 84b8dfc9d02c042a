"""What the executor does next, decided from task statuses alone (pure, so a replay decides the same).

Waves are dependency levels. The lowest wave holding a runnable task runs next; dependents of failed or
skipped tasks are blocked; manual tasks wait for approval; sequential tasks run one at a time,
and tasks that share a target file never run together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from masterplan.plans.graph import dependents_closure, waves

TERMINAL = frozenset({"completed", "failed", "blocked", "skipped"})
RUNNABLE = frozenset({"pending", "ready", "in_progress", "validating"})


@dataclass(frozen=True)
class TaskView:
    number: int
    status: str
    depends_on: tuple[int, ...] = ()
    mode: str = "parallel"
    approved: bool = False
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """run `tasks` of `wave`; wait (paused, awaiting approval); or finish with a final plan status."""

    action: Literal["run", "wait", "finish"]
    wave: int | None = None
    tasks: tuple[int, ...] = ()
    block: tuple[int, ...] = ()
    reason: str = ""


def wave_numbers(tasks: Mapping[int, TaskView]) -> dict[int, int]:
    """Task number -> its wave (1-based dependency level)."""
    levels = waves({n: t.depends_on for n, t in tasks.items()})
    return {n: i + 1 for i, level in enumerate(levels) for n in level}


def to_block(tasks: Mapping[int, TaskView]) -> set[int]:
    """Tasks still waiting to run that depend, directly or not, on a failed or skipped task."""
    graph = {n: t.depends_on for n, t in tasks.items()}
    dead = [n for n, t in tasks.items() if t.status in ("failed", "skipped")]
    return {n for n in dependents_closure(graph, dead) if tasks[n].status in ("pending", "ready")}


def decide(
    tasks: Mapping[int, TaskView], plan_status: str, wave_of: Mapping[int, int] | None = None
) -> Decision:
    """The next step of an execution, given every task's status and the plan's status (and the tasks'
    waves, when known)."""
    if plan_status == "paused":
        return Decision("wait", reason="paused")
    if plan_status != "in_progress":
        return Decision("finish", reason=plan_status)
    blocked = to_block(tasks)
    status = {n: "blocked" if n in blocked else t.status for n, t in tasks.items()}
    runnable = [
        n
        for n, t in tasks.items()
        if status[n] in RUNNABLE and all(status.get(d, "completed") == "completed" for d in t.depends_on)
    ]
    if not runnable:
        return Decision("finish", block=tuple(sorted(blocked)), reason="completed")
    wave_of = wave_of or wave_numbers(tasks)
    wave = min(wave_of[n] for n in runnable)
    in_wave = sorted(n for n in runnable if wave_of[n] == wave)
    allowed = [n for n in in_wave if tasks[n].mode != "manual" or tasks[n].approved]
    if not allowed:
        return Decision("wait", wave=wave, block=tuple(sorted(blocked)), reason="awaiting_approval")
    parallel = [n for n in allowed if tasks[n].mode != "sequential"]
    # Two tasks that write the same file never run at the same time.
    batch = conflict_free_groups({n: tasks[n].files for n in parallel or allowed[:1]})[0]
    return Decision("run", wave=wave, tasks=tuple(batch), block=tuple(sorted(blocked)))


def conflict_free_groups(files: Mapping[int, tuple[str, ...] | list[str]]) -> list[list[int]]:
    """Split tasks so that no two tasks of a group share a target file (first fit, in task order)."""
    groups: list[tuple[list[int], set[str]]] = []
    for number in sorted(files):
        wanted = set(files[number])
        for members, taken in groups:
            if not wanted & taken:
                members.append(number)
                taken |= wanted
                break
        else:
            groups.append(([number], wanted))
    return [members for members, _ in groups]
