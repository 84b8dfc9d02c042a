"""The roles a model plays and the output shapes shared between agents, the simulator and the executor.

Contract with the execution engine: the coder's output type is `CoderOutput`, and its user prompt carries
the target files (and the task number) between literal markers, written by `coder_context_block`.
"""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, Field

from masterplan.plans.editing import EditOperation

Role = Literal["discovery", "planner", "coder", "reviewer", "chat"]
ROLES: tuple[Role, ...] = ("discovery", "planner", "coder", "reviewer", "chat")

TARGET_FILES_OPEN = "<target_files>"
TARGET_FILES_CLOSE = "</target_files>"
TASK_NUMBER_OPEN = "<task_number>"
TASK_NUMBER_CLOSE = "</task_number>"


class GeneratedFile(BaseModel):
    """One file the coder writes, relative to the workspace root."""

    path: str = Field(min_length=1, max_length=255, description="Workspace-relative path, forward slashes.")
    content: str = Field(description="The complete new content of the file.")


class CoderOutput(BaseModel):
    """The coder's answer: the full content of exactly the task's target files."""

    files: list[GeneratedFile] = Field(description="One entry per target file, nothing else.")
    notes: str = Field("", max_length=4000, description="Anything the reviewer should know.")


class ReviewSuggestionsOutput(BaseModel):
    """The reviewer's answer: concrete improvements, most important first."""

    suggestions: list[str] = Field(default_factory=list, max_length=20)


class AcceptanceTestSpec(BaseModel):
    """One acceptance test: a pytest module or a shell command, and the tasks whose work it checks."""

    name: str = Field(min_length=1, max_length=200, description="Short and unique within the plan.")
    description: str = Field("", max_length=2000, description="The behaviour it checks, in a sentence.")
    priority: Literal["must", "should"] = "must"
    covers_tasks: list[int] = Field(
        default_factory=list, description="Task numbers it checks; it runs once all of them completed."
    )
    kind: Literal["pytest", "command"] = "pytest"
    pytest_code: str | None = Field(
        None, max_length=20000, description="A whole pytest module (kind pytest)."
    )
    command: str | None = Field(None, max_length=2000, description="A shell command (kind command).")
    expected_exit_code: int = Field(0, ge=0, le=255, description="The command's exit code when it passes.")


class AcceptanceTestsOutput(BaseModel):
    """The acceptance tests derived from the discovery and the plan."""

    tests: list[AcceptanceTestSpec] = Field(default_factory=list, max_length=60)


class PlanReviewSuggestion(BaseModel):
    """One concrete change to a draft plan and why it makes the plan better."""

    operation: EditOperation
    rationale: str = Field(min_length=1, max_length=2000)


class PlanReviewOutput(BaseModel):
    """The plan reviewer's answer: edit operations, most valuable first."""

    suggestions: list[PlanReviewSuggestion] = Field(default_factory=list, max_length=20)


def coder_context_block(task_number: int, target_files: list[str]) -> str:
    """The machine-readable part of a coder prompt: the task number and its target files as JSON."""
    return (
        f"{TASK_NUMBER_OPEN}{task_number}{TASK_NUMBER_CLOSE}\n"
        f"{TARGET_FILES_OPEN}{json.dumps(target_files)}{TARGET_FILES_CLOSE}"
    )


def tagged(tag: str, body: str) -> str:
    """A prompt block `<tag>body</tag>` that the simulator (and people) can find again."""
    return f"<{tag}>{body}</{tag}>"


def read_tagged(prompt: str, tag: str) -> str | None:
    """The body of the last `<tag>...</tag>` block of a prompt."""
    return _between(prompt, f"<{tag}>", f"</{tag}>")


def _between(text: str, start: str, end: str) -> str | None:
    i = text.rfind(start)
    if i < 0:
        return None
    j = text.find(end, i + len(start))
    return None if j < 0 else text[i + len(start) : j]


def parse_target_files(prompt: str) -> list[str] | None:
    """The target files named in a coder prompt, or None when the prompt has no such block."""
    raw = _between(prompt, TARGET_FILES_OPEN, TARGET_FILES_CLOSE)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return [str(v) for v in value] if isinstance(value, list) else None


_TASK_WORD = re.compile(r"\btask\s*#?\s*(\d+)", re.IGNORECASE)


def parse_task_number(prompt: str) -> int | None:
    """The task number of a coder prompt: from its marker, else from the first 'task N' it mentions."""
    raw = _between(prompt, TASK_NUMBER_OPEN, TASK_NUMBER_CLOSE)
    if raw is not None and raw.strip().isdigit():
        return int(raw.strip())
    match = _TASK_WORD.search(prompt)
    return int(match.group(1)) if match else None
