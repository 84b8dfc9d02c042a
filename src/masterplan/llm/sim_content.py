"""What the simulator says for each role: deterministic, valid, derived from the prompt's words."""

from __future__ import annotations

import json
import random
import re
from pathlib import PurePosixPath
from typing import Any

from masterplan.llm.roles import read_tagged
from masterplan.plans.synthetic import COMPLEXITIES, EXTENSIONS, synthetic_plan

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "for",
        "to",
        "with",
        "in",
        "on",
        "at",
        "by",
        "from",
        "as",
        "is",
        "are",
        "be",
        "it",
        "its",
        "this",
        "that",
        "we",
        "our",
        "you",
        "your",
        "i",
        "build",
        "make",
        "create",
        "write",
        "need",
        "needs",
        "want",
        "small",
        "simple",
        "new",
        "app",
        "application",
        "using",
        "use",
        "please",
        "some",
        "into",
        "over",
        "under",
        "than",
        "then",
        "so",
        "which",
        "who",
        "what",
        "when",
        "where",
        "how",
        "can",
        "should",
        "would",
        "could",
        "will",
    ]
)
TASK_KINDS = ["model", "service", "endpoint", "repository", "view", "validator", "worker", "client"]


def request_text(prompt: str) -> str:
    return (read_tagged(prompt, "request") or prompt).strip()


def keywords(text: str, limit: int = 6) -> list[str]:
    """Distinct meaningful words of the request, in order of appearance."""
    seen: list[str] = []
    for word in re.findall(r"[a-zA-Z][a-zA-Z0-9]+", text.lower()):
        if word not in STOPWORDS and len(word) > 2 and word not in seen:
            seen.append(word)
    return seen[:limit] or ["project"]


def _slug(word: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", word.lower())[:30] or "item"


def discovery_answer(prompt: str, *, fail: bool = False) -> dict[str, Any]:
    request = request_text(prompt)
    words = keywords(request)
    title = " ".join(w.capitalize() for w in words[:4])
    contexts = words[:3]
    return {
        "domain": "" if fail else title,
        "bounded_contexts": [
            {
                "name": f"{w.capitalize()} management",
                "description": f"Everything about {w}.",
                "responsibilities": [f"create {w}", f"list {w}", f"change {w}"],
            }
            for w in contexts
        ],
        "aggregates": [
            {
                "name": w.capitalize(),
                "bounded_context": f"{w.capitalize()} management",
                "entities": [w.capitalize()],
                "invariants": [f"a {w} has a unique id"],
            }
            for w in contexts
        ],
        "value_objects": [
            {"name": f"{w.capitalize()}Id", "description": f"Identity of a {w}."} for w in contexts
        ],
        "domain_events": [
            {
                "name": f"{w.capitalize()}Created",
                "description": f"A {w} was created.",
                "raised_by": w.capitalize(),
            }
            for w in contexts
        ],
        "services": [
            {
                "name": f"{w.capitalize()}Service",
                "description": f"Use cases of {w}.",
                "operations": ["create", "get", "list"],
            }
            for w in contexts
        ],
        "assumptions": [f"(sim) the request {request[:80]!r} describes a small system"],
        "clarifications_needed": [] if len(words) > 2 else ["(sim) what should the system do in detail?"],
        "risk_factors": ["(sim) simulated analysis: not written by a real model"],
    }


def skeleton_answer(prompt: str, n_tasks: int, *, seed: int = 0, fail: bool = False) -> dict[str, Any]:
    words = keywords(request_text(prompt))
    shape = synthetic_plan(n_tasks, seed=seed)
    phases: list[dict[str, Any]] = []
    number = 0
    for phase in shape.phases:
        milestones = []
        for milestone in phase.milestones:
            number += 1
            word = words[(number - 1) % len(words)]
            milestones.append(
                {
                    "name": f"{word.capitalize()} {phase.phase_type} {number}",
                    "description": f"(sim) {phase.name}: {word}, part {number}.",
                    "depends_on_milestones": [number] if fail else ([number - 1] if number > 1 else []),
                    "task_count": len(milestone.tasks),
                }
            )
        phases.append(
            {"phase_type": phase.phase_type, "name": phase.name, "description": "", "milestones": milestones}
        )
    return {
        "project_name": " ".join(w.capitalize() for w in words[:4]),
        "description": f"(sim) {request_text(prompt)[:500]}",
        "tech_stack": ["python", "pytest"],
        "architecture_style": "modular monolith",
        "phases": phases,
    }


def milestone_tasks_answer(prompt: str, *, seed: int = 0, fail: bool = False) -> dict[str, Any]:
    context = json.loads(read_tagged(prompt, "milestone_context") or "{}")
    first = int(context.get("first_task_number", 1))
    count = max(1, int(context.get("task_count", 4)))
    milestone = int(context.get("milestone_number", 1))
    words = keywords(request_text(prompt))
    rng = random.Random(f"{seed}|milestone|{milestone}|{first}")
    package = _slug(words[0])
    tasks: list[dict[str, Any]] = []
    for number in range(first, first + count):
        window = list(range(max(1, number - 30), number))
        deps = sorted(rng.sample(window, k=min(len(window), rng.randint(0, 3))))
        complexity = rng.choice(COMPLEXITIES)
        ext = rng.choice(EXTENSIONS)
        word = words[number % len(words)]
        kind = TASK_KINDS[number % len(TASK_KINDS)]
        n_sub = rng.randint(3, 5) if complexity in ("high", "critical") else rng.randint(0, 2)
        tasks.append(
            {
                "task_number": number,
                "name": f"{word.capitalize()} {kind} {number}",
                "description": f"(sim) Implement the {word} {kind} of milestone {milestone}.",
                "complexity": complexity,
                "task_type": "test" if ext == "py" and number % 7 == 0 else "implementation",
                "depends_on": deps,
                "target_files": [f"{package}/m{milestone}/{_slug(word)}_{kind}_{number}.{ext}"],
                "subtasks": [
                    {"name": f"Step {i + 1} of {word} {kind}", "description": ""} for i in range(n_sub)
                ],
            }
        )
    if fail:
        tasks[-1]["depends_on"] = [*tasks[-1]["depends_on"], first + count + 1000]
    return {"tasks": tasks}


def file_content(path: str, task_number: int | None) -> str:
    """Syntactically valid content for a file, chosen by its extension."""
    p = PurePosixPath(path)
    stem = _slug(p.stem)
    label = f"task {task_number}" if task_number is not None else "this task"
    suffix = p.suffix.lower()
    if suffix == ".py":
        if p.name.startswith("test_") or "tests" in p.parts:
            return f'"""Tests written by the simulator for {label}."""\n\n\ndef test_{stem}() -> None:\n    assert {stem!r}\n'
        return (
            f'"""{p.name}: written by the simulator for {label}."""\n\n\n'
            f"def {stem}_info() -> dict[str, str]:\n"
            f'    """Describe this module."""\n'
            f'    return {{"module": {p.name!r}, "written_by": "sim"}}\n'
        )
    if suffix == ".json":
        return json.dumps({"name": p.stem, "written_by": "sim", "task": task_number}, indent=2) + "\n"
    if suffix == ".toml":
        return f'[tool.sim]\nname = "{p.stem}"\nwritten_by = "sim"\n'
    if suffix in (".yaml", ".yml"):
        return f"name: {p.stem}\nwritten_by: sim\n"
    if suffix == ".md":
        return f"# {p.stem}\n\nWritten by the simulator for {label}.\n"
    return f"{p.name}: written by the simulator for {label}\n"


def coder_answer(
    targets: list[str], task_number: int | None, *, rng: random.Random, fail: bool = False
) -> dict[str, Any]:
    files = [{"path": path, "content": file_content(path, task_number)} for path in targets]
    if fail:
        python = [f for f in files if f["path"].endswith(".py")]
        if python and rng.random() < 0.5:
            python[0]["content"] = "def broken(:\n    return\n"
        else:
            files.append({"path": "sim_unexpected/extra_file.py", "content": "x = 1\n"})
    return {"files": files, "notes": "(sim) simulated code"}


def review_answer(prompt: str) -> dict[str, Any]:
    words = keywords(prompt, limit=3)
    return {
        "suggestions": [
            f"(sim) add a test covering {words[0]}",
            "(sim) name the error cases explicitly",
        ]
    }


def acceptance_answer(prompt: str) -> dict[str, Any]:
    """One test per milestone: its Python files compile and its other files exist and are non-empty.

    Setup milestones are `must`, the rest `should`; a plan's tests are derived from its own prompt blocks.
    """
    try:
        milestones = json.loads(read_tagged(prompt, "milestones") or "[]")
        tasks = {t["task_number"]: t for t in json.loads(read_tagged(prompt, "tasks") or "[]")}
    except (json.JSONDecodeError, KeyError, TypeError):
        return {"tests": []}
    tests: list[dict[str, Any]] = []
    for index, milestone in enumerate(milestones):
        numbers = [n for n in milestone.get("tasks", []) if n in tasks]
        files = [f for n in numbers for f in tasks[n].get("target_files", [])]
        if not files:
            continue
        python = [f for f in files if f.endswith(".py")]
        others = [f for f in files if not f.endswith(".py")]
        checks = [f"python -m py_compile {' '.join(python)}"] if python else []
        checks += [f"test -s {path}" for path in others]
        tests.append(
            {
                "name": f"milestone {milestone.get('milestone', index + 1)} files are valid",
                "description": f"The files of '{milestone.get('name', '')}' exist and Python ones compile.",
                "priority": "must" if index == 0 else "should",
                "covers_tasks": numbers,
                "kind": "command",
                "command": " && ".join(checks),
                "expected_exit_code": 0,
            }
        )
    return {"tests": tests}


def plan_review_answer(prompt: str) -> dict[str, Any]:
    """Refine the description of the reviewed task (or the plan's first task) and of the plan itself."""
    try:
        plan = json.loads(read_tagged(prompt, "plan") or "{}")
        request = json.loads(read_tagged(prompt, "review") or "{}")
        tasks = [
            t for p in plan.get("phases", []) for m in p.get("milestones", []) for t in m.get("tasks", [])
        ]
    except (json.JSONDecodeError, AttributeError, TypeError):
        return {"suggestions": []}
    if not tasks:
        return {"suggestions": []}
    target = str(request.get("target_id") or "")
    task = next(
        (t for t in tasks if request.get("scope") == "task" and str(t.get("task_number")) == target), tasks[0]
    )
    files = ", ".join(task.get("target_files", [])) or "its target files"
    return {
        "suggestions": [
            {
                "operation": {
                    "op": "update_task",
                    "task": task["task_number"],
                    "description": f"{task.get('description', '')} (sim) Done when {files} exist and are tested.",
                },
                "rationale": "(sim) a task description should say when the task is done",
            },
            {
                "operation": {
                    "op": "update_plan",
                    "description": f"{plan.get('description', '')} (sim) Reviewed for clarity.",
                },
                "rationale": "(sim) the plan's description should state that it was reviewed",
            },
        ]
    }
