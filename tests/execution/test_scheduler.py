"""The pure scheduling decision: waves, blocking, modes, file conflicts."""

from __future__ import annotations

from masterplan.execution.scheduler import TaskView, conflict_free_groups, decide, to_block


def views(**overrides: dict[str, object]) -> dict[int, TaskView]:
    """1 -> 3, 2 -> 3, 3 -> 4; 5 independent. Each task writes its own file unless told otherwise."""
    base: dict[int, dict[str, object]] = {
        1: {"depends_on": ()},
        2: {"depends_on": ()},
        3: {"depends_on": (1, 2)},
        4: {"depends_on": (3,)},
        5: {"depends_on": ()},
    }
    out: dict[int, TaskView] = {}
    for n, fields in base.items():
        merged: dict[str, object] = {
            "status": "pending",
            "files": (f"f{n}.py",),
            **fields,
            **overrides.get(f"t{n}", {}),
        }
        out[n] = TaskView(number=n, **merged)  # type: ignore[arg-type]
    return out


def test_the_lowest_wave_runs_first() -> None:
    decision = decide(views(), "in_progress")
    assert (decision.action, decision.wave, decision.tasks) == ("run", 1, (1, 2, 5))


def test_next_wave_after_its_dependencies_completed() -> None:
    done = {"status": "completed"}
    decision = decide(views(t1=done, t2=done, t5=done), "in_progress")
    assert (decision.wave, decision.tasks) == (2, (3,))


def test_dependents_of_a_failure_are_blocked_transitively_and_the_rest_goes_on() -> None:
    tasks = views(t1={"status": "failed"}, t2={"status": "completed"})
    assert to_block(tasks) == {3, 4}
    decision = decide(tasks, "in_progress")
    assert decision.block == (3, 4)
    assert decision.tasks == (5,)


def test_nothing_runnable_finishes_the_plan() -> None:
    tasks = views(**{f"t{n}": {"status": "completed"} for n in (1, 2, 3, 4, 5)})
    assert decide(tasks, "in_progress").action == "finish"
    failed = views(t1={"status": "failed"}, t2={"status": "completed"}, t5={"status": "completed"})
    decision = decide(failed, "in_progress")
    assert (decision.action, decision.block) == ("finish", (3, 4))


def test_paused_waits_and_cancelled_finishes() -> None:
    assert decide(views(), "paused").action == "wait"
    assert decide(views(), "cancelled").action == "finish"


def test_a_task_interrupted_in_flight_is_runnable_again() -> None:
    decision = decide(views(t2={"status": "validating"}), "in_progress")
    assert 2 in decision.tasks


def test_manual_tasks_wait_for_approval() -> None:
    manual = {"mode": "manual"}
    tasks = views(t1=manual, t2=manual, t5={"mode": "manual", "approved": True})
    assert decide(tasks, "in_progress").tasks == (5,)
    only_unapproved = views(t1=manual, t2=manual, t5={"mode": "manual", "status": "completed"})
    decision = decide(only_unapproved, "in_progress")
    assert (decision.action, decision.reason) == ("wait", "awaiting_approval")


def test_sequential_tasks_run_alone_after_parallel_ones() -> None:
    sequential = {"mode": "sequential"}
    assert decide(views(t1=sequential, t2=sequential), "in_progress").tasks == (5,)
    assert decide(views(t1=sequential, t2=sequential, t5={"status": "completed"}), "in_progress").tasks == (
        1,
    )


def test_tasks_sharing_a_file_never_run_together() -> None:
    shared = {"files": ("shared.py",)}
    assert decide(views(t1=shared, t5=shared), "in_progress").tasks == (1, 2)
    assert conflict_free_groups({1: ["a", "b"], 2: ["b"], 3: ["c"], 4: ["a"]}) == [[1, 3], [2, 4]]
