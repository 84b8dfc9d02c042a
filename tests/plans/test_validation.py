"""Plan validation rules, with property tests for cycles and path safety."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from masterplan.plans.graph import Reachability, find_cycle, waves
from masterplan.plans.paths import path_problem
from masterplan.plans.schemas import PlanDocument, TaskDocument
from masterplan.plans.synthetic import synthetic_plan
from masterplan.plans.validation import plan_problems, task_problems


def task(n: int, deps: list[int] | None = None, files: list[str] | None = None) -> TaskDocument:
    return TaskDocument(
        task_number=n, name=f"t{n}", depends_on=deps or [], target_files=files or [f"f{n}.py"]
    )


def test_synthetic_plans_are_valid() -> None:
    for size in (1, 10, 120, 1000):
        plan = synthetic_plan(size, seed=size)
        assert len(plan.all_tasks()) == size
        assert plan_problems(plan) == []


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        ([task(1), task(1)], "task number 1 is used by more than one task"),
        ([task(1, [7])], "depends on unknown task 7"),
        ([task(1, [1])], "depends on itself"),
        (
            [task(1, [2]), task(2, [3]), task(3, [1])],
            "dependency cycle: task 1 -> task 2 -> task 3 -> task 1",
        ),
        ([TaskDocument(task_number=1, name="x")], "has no target files"),
        ([task(1, files=["a.py"]), task(2, files=["a.py"])], "tasks 1 and 2 both write 'a.py'"),
        ([task(1, files=[f"f{i}" for i in range(101)])], "at most 100"),
    ],
)
def test_rule_violations_name_the_tasks(tasks: list[TaskDocument], expected: str) -> None:
    problems = task_problems(tasks)
    assert any(expected in p for p in problems), problems


def test_shared_file_ordered_by_a_path_is_allowed() -> None:
    tasks = [task(1, files=["a.py"]), task(2, [1], ["b.py"]), task(3, [2], ["a.py"])]
    assert task_problems(tasks) == []


def test_too_many_tasks() -> None:
    assert "at most 5000" in task_problems([task(i) for i in range(1, 5002)])[0]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/etc/passwd", "absolute"),
        ("C:/x.py", "drive letter"),
        ("a/../b.py", "'..'"),
        ("a\\b.py", "backslash"),
        ("a\x00b", "control"),
        ("a//b.py", "empty segment"),
        ("x" * 256, "longer than 255"),
        ("", "empty"),
        (".git/config", ".git"),
    ],
)
def test_unsafe_paths(path: str, reason: str) -> None:
    problem = path_problem(path)
    assert problem is not None and reason in problem


@given(st.lists(st.sampled_from(["src", "app", "a.py", "b", "tests", "x_1.json"]), min_size=1, max_size=6))
def test_joined_safe_segments_are_safe(segments: list[str]) -> None:
    assert path_problem("/".join(segments)) is None


@given(st.text(min_size=1, max_size=40), st.sampled_from(["..", "/", "\\", "\x01", "//"]))
def test_any_path_with_a_dangerous_part_is_refused(text: str, bad: str) -> None:
    candidate = f"{text}{bad}" if bad != ".." else f"{text}/../x"
    if bad == "/":
        candidate = "/" + text
    assert path_problem(candidate) is not None


@st.composite
def dags(draw: st.DrawFn) -> dict[int, list[int]]:
    n = draw(st.integers(1, 30))
    return {
        i: sorted(set(draw(st.lists(st.integers(1, i - 1), max_size=4)))) if i > 1 else []
        for i in range(1, n + 1)
    }


@given(dags())
def test_backward_edges_never_form_a_cycle_and_waves_respect_dependencies(
    graph: dict[int, list[int]],
) -> None:
    assert find_cycle(graph) is None
    wave_of = {n: i for i, level in enumerate(waves(graph)) for n in level}
    assert set(wave_of) == set(graph)
    for node, deps in graph.items():
        assert all(wave_of[d] < wave_of[node] for d in deps)
    reach = Reachability(graph)
    for node, deps in graph.items():
        assert all(reach.depends_on(node, d) for d in deps)


@given(dags(), st.data())
def test_adding_a_forward_edge_closing_a_path_is_a_cycle(
    graph: dict[int, list[int]], data: st.DataObject
) -> None:
    reach = Reachability(graph)
    pairs = [(a, b) for a in graph for b in graph if a != b and reach.depends_on(a, b)]
    if not pairs:
        return
    a, b = data.draw(st.sampled_from(pairs))
    cyclic = {k: list(v) for k, v in graph.items()}
    cyclic[b].append(a)
    cycle = find_cycle(cyclic)
    assert cycle is not None and cycle[0] == cycle[-1]
    for x, y in itertools.pairwise(cycle):
        assert y in cyclic[x]


def test_plan_document_requires_phases() -> None:
    with pytest.raises(ValueError):
        PlanDocument(project_name="x", phases=[])
