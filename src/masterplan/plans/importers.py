"""Import plans from other planning tools: Task Master `tasks.json` and GitHub Spec Kit `tasks.md`.

Target files are taken from the text where the tool names them; tasks without any are imported with an
empty list and the plan cannot be approved until someone fills them in.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from masterplan.errors import PlanValidationError
from masterplan.plans.paths import path_problem
from masterplan.plans.schemas import (
    Complexity,
    MilestoneDocument,
    PhaseDocument,
    PhaseType,
    PlanDocument,
    SubtaskDocument,
    TaskDocument,
)

ImportSource = Literal["taskmaster", "speckit"]
_FILE = re.compile(
    r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.(?:py|pyi|js|jsx|ts|tsx|json|toml|yaml|yml|md|txt|cfg|ini|sql|html|css|sh|go|rs|java|rb))\b"
)
_PRIORITY: dict[str, Complexity] = {"low": "low", "medium": "medium", "high": "high", "critical": "critical"}


def files_in(text: str) -> list[str]:
    """Workspace-relative file paths mentioned in free text, in order, safe ones only."""
    found: list[str] = []
    for match in _FILE.findall(text or ""):
        path = match.strip("`'\"")
        if path not in found and path_problem(path) is None and not path.startswith(("http", "www.")):
            found.append(path)
    return found


def from_taskmaster(content: str, project_name: str | None = None) -> PlanDocument:
    """A Task Master tasks.json (plain or tagged) as a draft plan document."""
    try:
        data: Any = json.loads(content)
    except json.JSONDecodeError as exc:
        raise PlanValidationError([f"not valid JSON: {exc}"]) from None
    if isinstance(data, dict) and "tasks" not in data:
        tagged = data.get("master") or next(
            (v for v in data.values() if isinstance(v, dict) and "tasks" in v), None
        )
        data = tagged or data
    tasks = data.get("tasks") if isinstance(data, dict) else data
    if not isinstance(tasks, list) or not tasks:
        raise PlanValidationError(["no tasks found: expected {'tasks': [...]} as written by Task Master"])
    documents: list[TaskDocument] = []
    for raw in tasks:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), int | str):
            raise PlanValidationError([f"task entry without an id: {str(raw)[:80]}"])
        number = int(str(raw["id"]).split(".")[0])
        text = " ".join(str(raw.get(k, "")) for k in ("title", "description", "details", "testStrategy"))
        subtasks = [
            SubtaskDocument(
                name=str(s.get("title", "subtask"))[:300], description=str(s.get("description", ""))
            )
            for s in raw.get("subtasks", []) or []
            if isinstance(s, dict)
        ]
        sub_text = " ".join(
            str(s.get("details", "")) for s in raw.get("subtasks", []) or [] if isinstance(s, dict)
        )
        documents.append(
            TaskDocument(
                task_number=number,
                name=str(raw.get("title") or f"Task {number}")[:300],
                description="\n\n".join(str(raw[k]) for k in ("description", "details") if raw.get(k)),
                complexity=_PRIORITY.get(str(raw.get("priority", "medium")).lower(), "medium"),
                task_type="test" if "test" in str(raw.get("title", "")).lower() else "implementation",
                depends_on=[int(str(d).split(".")[0]) for d in raw.get("dependencies", []) or []],
                target_files=files_in(text + " " + sub_text),
                subtasks=subtasks,
            )
        )
    milestone = MilestoneDocument(name="Imported from Task Master", tasks=documents)
    return PlanDocument(
        project_name=project_name
        or str((data if isinstance(data, dict) else {}).get("project", "Imported plan")),
        description="Imported from a Task Master tasks.json.",
        phases=[PhaseDocument(phase_type="core", name="Implementation", milestones=[milestone])],
    )


_SPEC_TASK = re.compile(r"^\s*-\s*\[[ xX]\]\s*T(\d+)\s*(.*)$")
_SPEC_PHASE = re.compile(r"^#{2,3}\s+(.*)$")
_SPEC_RANGE = re.compile(r"T(\d+)\s*-\s*T(\d+)")
_SPEC_ID = re.compile(r"T(\d+)")


def _phase_type(name: str) -> PhaseType:
    lowered = name.lower()
    if "setup" in lowered or "foundation" in lowered:
        return "setup"
    if "polish" in lowered or "release" in lowered or "cross-cutting" in lowered:
        return "polish"
    return "core"


def _ids(text: str) -> list[int]:
    ids: list[int] = []
    for start, end in _SPEC_RANGE.findall(text):
        ids.extend(range(int(start), int(end) + 1))
    ids.extend(int(i) for i in _SPEC_ID.findall(_SPEC_RANGE.sub("", text)))
    return ids


def from_speckit(content: str, project_name: str | None = None) -> PlanDocument:
    """A Spec Kit tasks.md as a draft plan: its phases become milestones; [P] tasks may run in parallel."""
    title = next(
        (line[1:].strip() for line in content.splitlines() if line.startswith("# ")), "Imported plan"
    )
    title = re.sub(r"^Tasks:\s*", "", title)
    sections: list[tuple[str, list[TaskDocument]]] = []
    dependency_lines: list[str] = []
    current: str | None = None
    last_sequential: int | None = None
    parallel_since: list[int] = []
    for line in content.splitlines():
        heading = _SPEC_PHASE.match(line)
        if heading:
            current = heading.group(1).strip()
            if current.lower().startswith("dependencies"):
                continue
            sections.append((current, []))
            continue
        if current and current.lower().startswith("dependencies"):
            dependency_lines.append(line)
            continue
        task_match = _SPEC_TASK.match(line)
        if not task_match:
            continue
        if not sections:
            sections.append(("Tasks", []))
        number, rest = int(task_match.group(1)), task_match.group(2)
        parallel = "[P]" in rest
        name = re.sub(r"\[[^\]]*\]\s*", "", rest).strip() or f"Task {number}"
        # Spec Kit order: tasks run in sequence unless marked [P]; a sequential task joins the parallel ones.
        deps = ([last_sequential] if last_sequential else []) if parallel else [*parallel_since]
        if not parallel:
            if last_sequential and not parallel_since:
                deps.append(last_sequential)
            last_sequential, parallel_since = number, []
        else:
            parallel_since.append(number)
        sections[-1][1].append(
            TaskDocument(
                task_number=number,
                name=name[:300],
                description=rest.strip(),
                complexity="medium",
                task_type="test" if "test" in name.lower() else "implementation",
                depends_on=sorted(set(deps)),
                target_files=files_in(rest),
            )
        )
    by_number = {t.task_number: t for _, tasks in sections for t in tasks}
    if not by_number:
        raise PlanValidationError(
            ["no tasks found: expected lines like '- [ ] T001 [P] Description in path/file.py'"]
        )
    for line in dependency_lines:
        if " before " in line:
            left, right = line.split(" before ", 1)
            for after in _ids(right):
                if after in by_number:
                    by_number[after].depends_on = sorted(set(by_number[after].depends_on) | set(_ids(left)))
        elif " blocks " in line:
            left, right = line.split(" blocks ", 1)
            for after in _ids(right):
                if after in by_number:
                    by_number[after].depends_on = sorted(set(by_number[after].depends_on) | set(_ids(left)))
    phases: dict[PhaseType, PhaseDocument] = {}
    for name, tasks in sections:
        if not tasks:
            continue
        kind = _phase_type(name)
        phase = phases.setdefault(kind, PhaseDocument(phase_type=kind, name=kind.capitalize()))
        phase.milestones.append(MilestoneDocument(name=name[:300], tasks=tasks))
    ordered = [phases[k] for k in ("setup", "core", "polish") if k in phases]
    return PlanDocument(
        project_name=project_name or title[:200],
        description="Imported from a GitHub Spec Kit tasks.md.",
        phases=ordered,
    )


def import_document(source: ImportSource, content: str, project_name: str | None = None) -> PlanDocument:
    if source == "taskmaster":
        return from_taskmaster(content, project_name)
    return from_speckit(content, project_name)
