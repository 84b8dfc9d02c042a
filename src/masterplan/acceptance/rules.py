"""What makes a set of acceptance tests valid, shared by the deriving agent and the edit endpoint."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence

from masterplan.llm.roles import AcceptanceTestSpec


def pytest_code_problem(code: str) -> str | None:
    """Why a pytest module cannot work, or None: it must parse and define at least one test function."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return f"is not valid Python (line {exc.lineno}: {exc.msg})"
    nodes = [*tree.body, *(n for c in tree.body if isinstance(c, ast.ClassDef) for n in c.body)]
    if not any(
        isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test") for n in nodes
    ):
        return "defines no test function (name one `test_...`)"
    return None


def spec_problems(specs: Sequence[AcceptanceTestSpec], task_numbers: Iterable[int]) -> list[str]:
    """Every rule the tests break, each naming the test and what would be right."""
    known = set(task_numbers)
    problems: list[str] = []
    seen: set[str] = set()
    for index, spec in enumerate(specs, start=1):
        label = f"test {index} ({spec.name!r})"
        key = spec.name.strip().lower()
        if key in seen:
            problems.append(f"{label}: the name is used twice; give each test its own name")
        seen.add(key)
        unknown = sorted(set(spec.covers_tasks) - known)
        if unknown:
            problems.append(f"{label}: covers unknown tasks {unknown}; use task numbers of this plan")
        if spec.kind == "pytest":
            if not (spec.pytest_code or "").strip():
                problems.append(f"{label}: kind 'pytest' needs pytest_code (a whole pytest module)")
            else:
                problem = pytest_code_problem(spec.pytest_code or "")
                if problem:
                    problems.append(f"{label}: pytest_code {problem}")
        elif not (spec.command or "").strip():
            problems.append(f"{label}: kind 'command' needs a command")
    return problems
