"""Edit operations on a plan document: typed, pure, and shared by the API, the CLI and LLM suggestions."""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, Field

from masterplan.errors import PlanValidationError
from masterplan.plans.schemas import (
    Complexity,
    ExecutionMode,
    MilestoneDocument,
    PhaseDocument,
    PhaseType,
    PlanDocument,
    SubtaskDocument,
    TaskDocument,
)

T = TypeVar("T")


class UpdatePlan(BaseModel):
    op: Literal["update_plan"] = "update_plan"
    project_name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    tech_stack: list[str] | None = None
    architecture_style: str | None = None


class AddPhase(BaseModel):
    op: Literal["add_phase"] = "add_phase"
    phase_type: PhaseType
    name: str = Field(min_length=1, max_length=300)
    description: str = ""
    position: int | None = Field(None, ge=1, description="1-based position; default last.")


class UpdatePhase(BaseModel):
    op: Literal["update_phase"] = "update_phase"
    phase: int = Field(ge=1, description="Phase number.")
    phase_type: PhaseType | None = None
    name: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = None
    execution_mode: ExecutionMode | None = None
    pause_after: bool | None = None


class DeletePhase(BaseModel):
    op: Literal["delete_phase"] = "delete_phase"
    phase: int = Field(ge=1)


class MovePhase(BaseModel):
    op: Literal["move_phase"] = "move_phase"
    phase: int = Field(ge=1)
    position: int = Field(ge=1)


class AddMilestone(BaseModel):
    op: Literal["add_milestone"] = "add_milestone"
    phase: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=300)
    description: str = ""
    position: int | None = Field(None, ge=1, description="1-based position within the phase.")


class UpdateMilestone(BaseModel):
    op: Literal["update_milestone"] = "update_milestone"
    milestone: int = Field(ge=1, description="Milestone number (global).")
    name: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = None


class DeleteMilestone(BaseModel):
    op: Literal["delete_milestone"] = "delete_milestone"
    milestone: int = Field(ge=1)


class MoveMilestone(BaseModel):
    op: Literal["move_milestone"] = "move_milestone"
    milestone: int = Field(ge=1)
    phase: int = Field(ge=1, description="Destination phase number.")
    position: int | None = Field(None, ge=1)


class AddTask(BaseModel):
    op: Literal["add_task"] = "add_task"
    milestone: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=300)
    description: str = ""
    complexity: Complexity = "medium"
    task_type: str = "implementation"
    depends_on: list[int] = Field(default_factory=list)
    target_files: list[str] = Field(default_factory=list)
    subtasks: list[SubtaskDocument] = Field(default_factory=list)
    position: int | None = Field(None, ge=1)


class UpdateTask(BaseModel):
    op: Literal["update_task"] = "update_task"
    task: int = Field(ge=1, description="Task number.")
    name: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = None
    complexity: Complexity | None = None
    task_type: str | None = None
    depends_on: list[int] | None = None
    target_files: list[str] | None = None


class DeleteTask(BaseModel):
    op: Literal["delete_task"] = "delete_task"
    task: int = Field(ge=1)


class MoveTask(BaseModel):
    op: Literal["move_task"] = "move_task"
    task: int = Field(ge=1)
    milestone: int = Field(ge=1, description="Destination milestone number.")
    position: int | None = Field(None, ge=1)


class AddSubtask(BaseModel):
    op: Literal["add_subtask"] = "add_subtask"
    task: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=300)
    description: str = ""
    position: int | None = Field(None, ge=1)


class UpdateSubtask(BaseModel):
    op: Literal["update_subtask"] = "update_subtask"
    task: int = Field(ge=1)
    subtask: int = Field(ge=1, description="Subtask number within the task.")
    name: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = None


class DeleteSubtask(BaseModel):
    op: Literal["delete_subtask"] = "delete_subtask"
    task: int = Field(ge=1)
    subtask: int = Field(ge=1)


class MoveSubtask(BaseModel):
    op: Literal["move_subtask"] = "move_subtask"
    task: int = Field(ge=1)
    subtask: int = Field(ge=1)
    position: int = Field(ge=1)


EditOperation = Annotated[
    UpdatePlan
    | AddPhase
    | UpdatePhase
    | DeletePhase
    | MovePhase
    | AddMilestone
    | UpdateMilestone
    | DeleteMilestone
    | MoveMilestone
    | AddTask
    | UpdateTask
    | DeleteTask
    | MoveTask
    | AddSubtask
    | UpdateSubtask
    | DeleteSubtask
    | MoveSubtask,
    Field(discriminator="op"),
]


class EditRequest(BaseModel):
    operations: list[EditOperation] = Field(min_length=1, max_length=500)
    summary: str = Field("", max_length=500, description="What the change does, stored with the version.")


def _insert(items: list[T], item: T, position: int | None) -> None:
    index = len(items) if position is None else min(position - 1, len(items))
    items.insert(index, item)


def _pick(items: list[T], number: int, kind: str) -> T:
    if not 1 <= number <= len(items):
        raise PlanValidationError([f"{kind} {number} does not exist (there are {len(items)})"])
    return items[number - 1]


class _Index:
    """Locates phases, milestones (numbered globally) and tasks (by task number) in a document."""

    def __init__(self, doc: PlanDocument) -> None:
        self.doc = doc

    def phase(self, number: int) -> PhaseDocument:
        return _pick(self.doc.phases, number, "phase")

    def milestones(self) -> list[tuple[PhaseDocument, MilestoneDocument]]:
        return [(p, m) for p in self.doc.phases for m in p.milestones]

    def milestone(self, number: int) -> tuple[PhaseDocument, MilestoneDocument]:
        return _pick(self.milestones(), number, "milestone")

    def task(self, number: int) -> tuple[MilestoneDocument, TaskDocument]:
        for _, milestone in self.milestones():
            for task in milestone.tasks:
                if task.task_number == number:
                    return milestone, task
        raise PlanValidationError([f"task {number} does not exist"])


def _set_fields(target: BaseModel, op: BaseModel, names: list[str]) -> None:
    for name in names:
        value = getattr(op, name)
        if value is not None:
            setattr(target, name, value)


def apply_operation(doc: PlanDocument, op: BaseModel) -> None:
    """Apply one edit to the document in place; raise PlanValidationError for an unknown target."""
    index = _Index(doc)
    match op:
        case UpdatePlan():
            _set_fields(doc, op, ["project_name", "description", "tech_stack", "architecture_style"])
        case AddPhase():
            phase = PhaseDocument(phase_type=op.phase_type, name=op.name, description=op.description)
            _insert(doc.phases, phase, op.position)
        case UpdatePhase():
            fields = ["phase_type", "name", "description", "execution_mode", "pause_after"]
            _set_fields(index.phase(op.phase), op, fields)
        case DeletePhase():
            doc.phases.remove(index.phase(op.phase))
        case MovePhase():
            phase = index.phase(op.phase)
            doc.phases.remove(phase)
            _insert(doc.phases, phase, op.position)
        case AddMilestone():
            milestone = MilestoneDocument(name=op.name, description=op.description)
            _insert(index.phase(op.phase).milestones, milestone, op.position)
        case UpdateMilestone():
            _set_fields(index.milestone(op.milestone)[1], op, ["name", "description"])
        case DeleteMilestone():
            phase, milestone = index.milestone(op.milestone)
            phase.milestones.remove(milestone)
        case MoveMilestone():
            phase, milestone = index.milestone(op.milestone)
            destination = index.phase(op.phase)
            phase.milestones.remove(milestone)
            _insert(destination.milestones, milestone, op.position)
        case AddTask():
            number = max((t.task_number for t in doc.all_tasks()), default=0) + 1
            task = TaskDocument(task_number=number, **op.model_dump(exclude={"op", "milestone", "position"}))
            _insert(index.milestone(op.milestone)[1].tasks, task, op.position)
        case UpdateTask():
            fields = ["name", "description", "complexity", "task_type", "depends_on", "target_files"]
            _set_fields(index.task(op.task)[1], op, fields)
        case DeleteTask():
            milestone, task = index.task(op.task)
            milestone.tasks.remove(task)
        case MoveTask():
            milestone, task = index.task(op.task)
            target_milestone = index.milestone(op.milestone)[1]
            milestone.tasks.remove(task)
            _insert(target_milestone.tasks, task, op.position)
        case AddSubtask():
            sub = SubtaskDocument(name=op.name, description=op.description)
            _insert(index.task(op.task)[1].subtasks, sub, op.position)
        case UpdateSubtask():
            _set_fields(
                _pick(index.task(op.task)[1].subtasks, op.subtask, "subtask"), op, ["name", "description"]
            )
        case DeleteSubtask():
            task = index.task(op.task)[1]
            task.subtasks.remove(_pick(task.subtasks, op.subtask, "subtask"))
        case MoveSubtask():
            task = index.task(op.task)[1]
            sub = _pick(task.subtasks, op.subtask, "subtask")
            task.subtasks.remove(sub)
            _insert(task.subtasks, sub, op.position)
        case _:
            raise PlanValidationError([f"unknown edit operation {type(op).__name__}"])


def apply_operations(doc: PlanDocument, operations: list[BaseModel]) -> PlanDocument:
    """A new document with every operation applied in order; the input is left unchanged."""
    result = doc.model_copy(deep=True)
    for number, op in enumerate(operations, start=1):
        try:
            apply_operation(result, op)
        except PlanValidationError as exc:
            raise PlanValidationError(
                [f"operation {number} ({op.model_dump().get('op')}): {p}" for p in exc.problems]
            ) from None
    if not result.phases:
        raise PlanValidationError(["a plan needs at least one phase"])
    return result
