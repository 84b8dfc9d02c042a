"""Running one task (an atom: the task with its subtasks): coder attempts, validation, write, commit.

The database is the durable state of an atom, so the whole function can be repeated after a crash:
a task already finished is reported as it is; a task caught in `validating` re-validates the stored
answer instead of asking the model again; attempt records are unique per number; files are written
atomically and committed only when they differ from HEAD.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, case, select
from sqlalchemy.orm import Session

from masterplan.errors import ConfigurationError
from masterplan.execution import state
from masterplan.execution.attempts import finish_invalid, finish_success, record_answer
from masterplan.execution.coder import CoderContext, rate_limiter, run_coder
from masterplan.execution.scheduler import TERMINAL
from masterplan.execution.validation import ValidationReport, validate_files
from masterplan.execution.writer import Pending, submit_batched, write
from masterplan.llm import CoderOutput, resolve_model
from masterplan.models import Masterplan, Task
from masterplan.plans.service import change_plan_status
from masterplan.plans.transitions import move_task
from masterplan.review.service import regeneration_feedbacks
from masterplan.runtime import Runtime
from masterplan.workspace import read_files, write_atomic
from masterplan.workspace.git import committer_for, find_task_commit, task_commit_message

# Set while the process shuts down: atoms stop between attempts and the run stays pending.
stopping = threading.Event()


class Interrupted(BaseException):
    """The process is stopping; not an Exception, so DBOS records no outcome and the run resumes later."""


class Slots:
    """A batch's parallelism: at most `free` of its tasks are in_progress (claimed, asking the model).

    A task gives its slot back once its answer's write is queued (it commits as `validating`): checking,
    writing and committing the files need no model, so the next task of the wave asks the model meanwhile.
    A slot given back goes straight to the task waiting longest, whose claim the giver queues right behind
    its answer: both commit in one group, where a claim queued by its own thread once it woke found the
    group already running and waited for the next one.
    """

    def __init__(self, free: int) -> None:
        self._lock = threading.Lock()
        self._free = max(0, free)
        self._waiting: deque[_Waiter] = deque()

    def slot(self, held: bool) -> Slot:
        return Slot(self, held)

    def take(self, claim: Callable[[], Pending[Any]] | None) -> Pending[Any] | None:
        """Wait for a free slot; `claim` queues the task's claim (run by whoever hands the slot over)."""
        with self._lock:
            if self._free > 0:
                self._free -= 1
                waiter = None
            else:
                waiter = _Waiter(claim)
                self._waiting.append(waiter)
        if waiter is None:
            return claim() if claim is not None else None
        waiter.ready.wait()
        return waiter.claimed

    def give(self) -> None:
        with self._lock:
            if not self._waiting:
                self._free += 1
                return
            waiter = self._waiting.popleft()
        try:
            waiter.claimed = waiter.claim() if waiter.claim is not None else None
        finally:
            waiter.ready.set()


@dataclass
class _Waiter:
    claim: Callable[[], Pending[Any]] | None
    claimed: Pending[Any] | None = None
    ready: threading.Event = field(default_factory=threading.Event)


class Slot:
    """One task's hold on a slot of its batch (taking or giving it twice is a no-op)."""

    def __init__(self, slots: Slots | None, held: bool) -> None:
        self._slots = slots
        self.held = held

    def take(self, claim: Callable[[], Pending[Any]] | None = None) -> Pending[Any] | None:
        """Hold a slot; `claim` (if given) is queued the moment the slot is this task's."""
        if self.held or self._slots is None:
            self.held = True
            return claim() if claim is not None else None
        pending = self._slots.take(claim)
        self.held = True
        return pending

    def give(self) -> None:
        if self.held and self._slots is not None:
            self._slots.give()
        self.held = False


@dataclass
class AtomStart:
    """What `begin` found: either an outcome (nothing to run) or what the attempts need."""

    outcome: str | None = None
    claimed: bool = True  # False: read ahead for a task of the batch that waits for a free slot
    task_id: uuid.UUID | None = None
    workspace: Path = Path()
    complexity: str = "medium"
    max_retries: int = 3
    retry_count: int = 0
    stored_output: CoderOutput | None = None
    context: CoderContext | None = None
    feedback: list[str] = field(default_factory=list)


def run_atom(
    runtime: Runtime,
    plan_id: uuid.UUID,
    number: int,
    start: AtomStart | None = None,
    slot: Slot | None = None,
) -> dict[str, Any]:
    """Run a task to completed or failed; `deferred` when the plan is not running (paused, cancelled).

    `start` is what `prepare_batch` read for the task in its batch; without it the task begins by
    itself. `slot` is its place in the batch's parallelism (none: no limit).
    """
    slot = slot or Slot(None, True)
    try:
        return _run_atom(runtime, plan_id, number, start, slot)
    finally:
        slot.give()


def _run_atom(
    runtime: Runtime, plan_id: uuid.UUID, number: int, start: AtomStart | None, slot: Slot
) -> dict[str, Any]:
    start = begin(runtime, plan_id, number, start, slot)
    if start.outcome is not None:
        return {"task_number": number, "status": start.outcome}
    assert start.context is not None and start.task_id is not None
    try:
        resolved = resolve_model("coder", runtime.settings, complexity=start.complexity)
    except ConfigurationError as exc:
        pause_plan(runtime, plan_id, f"model: {exc}")
        return {"task_number": number, "status": "deferred"}
    limiter = rate_limiter(runtime.settings.llm_requests_per_second)
    feedback: list[str] = list(start.feedback)
    output = start.stored_output
    retry = start.retry_count
    checking: Future[ValidationReport] | None = None
    while True:
        if output is None:
            if stopping.is_set():
                raise Interrupted
            if retry > start.retry_count and not plan_running(runtime, plan_id):
                return {"task_number": number, "status": "deferred"}
            slot.take()
            answer = run_coder(resolved, start.context, attempt=retry + 1, feedback=feedback, limiter=limiter)
            if answer.output is not None:  # checking and writing need no database: done while it is stored
                files = [(f.path, f.content) for f in answer.output.files]
                checking = _validation_pool().submit(check_and_write, start.workspace, files)
            # An answer with files makes the task `validating`: its slot is free once that write has its
            # place (a claim written later commits with it or after it).
            verdict = record_answer(
                runtime,
                plan_id,
                start.task_id,
                answer,
                resolved,
                retry + 1,
                queued=slot.give if answer.output is not None else None,
            )
            if verdict == "failed":
                return {"task_number": number, "status": "failed"}
            if answer.output is None:
                retry, feedback = retry + 1, [answer.error or "no answer"]
                continue
            output = answer.output
        files = [(f.path, f.content) for f in output.files]
        report = checking.result() if checking is not None else check_and_write(start.workspace, files)
        checking = None
        if not report.passed:
            slot.take()  # back to in_progress for another attempt
            if finish_invalid(runtime, plan_id, start.task_id, report) == "failed":
                return {"task_number": number, "status": "failed"}
            retry, feedback, output = retry + 1, report.errors, None
            continue
        message = task_commit_message(number, start.context.task_name)
        sha = committer_for(start.workspace).commit(dict(files), message)
        sha = sha or find_task_commit(start.workspace, number)
        finish_success(runtime, plan_id, start.task_id, report, [p for p, _ in files], sha)
        return {"task_number": number, "status": "completed", "commit_sha": sha}


def check_and_write(workspace: Path, files: list[tuple[str, str]]) -> ValidationReport:
    """Validate an answer's files and, if they pass, write them into the workspace.

    This runs while the answer is being stored, so a crash can leave written files whose answer was
    not stored: the task then runs again and its next answer, which writes every one of its targets,
    overwrites them before anything is committed. The commit waits for the stored answer.
    """
    report = validate_files(files)
    if report.passed:
        for path, content in files:
            write_atomic(workspace, path, content)
    return report


@functools.cache
def _validation_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="masterplan-validate")


# A task in one of these has been claimed (by the wave's decision, or by a run that crashed).
CLAIMED = ("in_progress", "validating")
RUNNABLE = (*CLAIMED, "pending", "ready")


def _may_start(plan: Masterplan) -> bool:
    """Whether a claimed task may go on to the model without another write."""
    return plan.status == "in_progress" and plan.actual_cost_usd < plan.hard_cost_limit_usd


def prepare_batch(runtime: Runtime, plan_id: uuid.UUID, numbers: list[int]) -> dict[int, AtomStart]:
    """What the batch's tasks start from, read together before they run.

    Each task beginning by itself ran a set of queries while the wave's other tasks competed for the
    interpreter. A task not claimed yet (beyond the parallelism) still claims itself when a slot
    frees, but from what was read here.
    """
    with runtime.reading() as session:
        plan = session.get(Masterplan, plan_id)
        if plan is None or not _may_start(plan):
            return {}
        return _contexts(session, plan, numbers)


def begin(
    runtime: Runtime,
    plan_id: uuid.UUID,
    number: int,
    prepared: AtomStart | None = None,
    slot: Slot | None = None,
) -> AtomStart:
    """Take a slot, move the task to in_progress (or find where a crashed run left it), gather its context.

    `prepared` is what `prepare_batch` read: a claimed task starts from it as it is, an unclaimed one
    after its claim.
    """
    slot = slot or Slot(None, True)
    if prepared is None:
        slot.take()
        with runtime.reading() as session:
            plan = session.get(Masterplan, plan_id)
            task = _task(session, plan_id, number)
            if plan is not None and task.status in TERMINAL:
                return AtomStart(outcome=task.status)
            if plan is not None and plan.status != "in_progress":
                if task.status == "in_progress":
                    write(runtime, lambda s: _unclaim(s, plan_id, number))
                return AtomStart(outcome="deferred")
            # The wave's decision already moved it to in_progress: nothing to write before the model call.
            if plan is not None and task.status in CLAIMED and _may_start(plan):
                return _contexts(session, plan, [number])[number]
    elif prepared.claimed:
        slot.take()
        return prepared
    claim = slot.take(lambda: submit_batched(runtime, _claim, (plan_id, number), urgent=True))
    assert claim is not None
    outcome = claim.result()
    if outcome is not None:
        return AtomStart(outcome=outcome)
    if prepared is not None:
        return prepared
    with runtime.reading() as session:
        plan = session.get(Masterplan, plan_id)
        assert plan is not None
        return _contexts(session, plan, [number])[number]


_CLAIM_FACTS = select(Task.id, Task.name, Task.status, Task.max_retries).where(
    Task.masterplan_id == bindparam("b_plan"), Task.task_number == bindparam("b_number")
)


def _claim(session: Session, claims: list[tuple[uuid.UUID, int]]) -> list[str | None]:
    """Move tasks to in_progress (the claims waiting together are stored by one statement).

    For each: None when it may run, else why not: its final status, or `deferred` (the plan is not
    running, or it is over budget).
    """
    outcomes: list[str | None] = []
    moved: list[state.TaskFacts] = []
    for plan_id, number in claims:
        plan = state.lock_plan(session, plan_id)
        row = session.connection().execute(_CLAIM_FACTS, {"b_plan": plan_id, "b_number": number}).one()
        task = state.TaskFacts(row.id, number, row.name, row.status)
        if task.status in TERMINAL:
            outcomes.append(task.status)
            continue
        if plan.status != "in_progress":
            outcomes.append("deferred")
            continue
        if plan.actual_cost_usd >= plan.hard_cost_limit_usd:
            state.emit(session, plan, state.cost_warning(plan, "hard"))
            state.pause_for_cost(session, plan, "the hard limit was reached before this task started")
            outcomes.append("deferred")
            continue
        if task.status == "pending":
            move_task(task, "ready")
            state.emit_task_status(session, plan, task)
        if task.status == "ready":
            state.claim_task(session, plan, task, row.max_retries)
            moved.append(task)
        outcomes.append(None)
    state.store_statuses(session, moved)
    return outcomes


def _unclaim(session: Session, plan_id: uuid.UUID, number: int) -> None:
    """A task claimed by the wave but not started (the plan was paused meanwhile) is ready again."""
    plan = state.lock_plan(session, plan_id)
    task = _task(session, plan_id, number)
    if task.status == "in_progress" and plan.status != "in_progress":
        state.set_task_status(session, plan, task, "ready", "waiting: the plan is not running")


# The columns of a task that change while it runs (the rest is the plan's shape); the stored answer only
# of a task caught validating.
_RUN_FACTS = select(
    Task.task_number,
    Task.status,
    Task.retry_count,
    Task.modified_files,
    case((Task.status == "validating", Task.llm_response), else_=None).label("answer"),
).where(
    Task.masterplan_id == bindparam("b_plan"), Task.task_number.in_(bindparam("b_numbers", expanding=True))
)


def _contexts(session: Session, plan: Masterplan, numbers: list[int]) -> dict[int, AtomStart]:
    """Each runnable task's start: its context for the coder, the files its dependencies wrote, its
    feedback (a task that is not runnable, e.g. finished, is left out and finds its outcome alone).

    Names, descriptions, subtasks, files and dependencies come from the plan's shape (read once per
    version); one query reads what changes, for the tasks and their dependencies together.
    """
    fixed = state.shape(session, plan)
    wanted = sorted({*numbers, *(d for n in numbers for d in fixed.depends_on[n])})
    rows = {
        row.task_number: row for row in session.execute(_RUN_FACTS, {"b_plan": plan.id, "b_numbers": wanted})
    }
    feedback = regeneration_feedbacks(session, [fixed.ids[n] for n in numbers])
    workspace = Path(plan.workspace_path or ".")

    def written(number: int) -> list[str]:
        return list(rows[number].modified_files or fixed.files[number])

    # The files are read here, for the whole batch at once, before its tasks start: read by each task's
    # thread, every file call waited for the interpreter lock behind the others starting. The batch's
    # tasks share no target file, and the tasks they depend on are finished.
    return {
        number: AtomStart(
            task_id=fixed.ids[number],
            workspace=workspace,
            complexity=fixed.complexity[number],
            max_retries=fixed.max_retries[number],
            retry_count=rows[number].retry_count,
            stored_output=_stored_output(rows[number].answer),
            feedback=feedback.get(fixed.ids[number], []),
            claimed=rows[number].status in CLAIMED,
            context=CoderContext(
                project_name=plan.project_name,
                project_description=plan.description,
                tech_stack=list(plan.tech_stack),
                architecture_style=plan.architecture_style,
                task_number=number,
                task_name=fixed.names[number],
                task_description=fixed.descriptions[number],
                complexity=fixed.complexity[number],
                target_files=list(fixed.files[number]),
                subtasks=list(fixed.subtasks.get(number, ())),
                dependency_files=read_files(
                    workspace, [p for d in fixed.depends_on[number] for p in written(d)]
                ),
                current_files=read_files(workspace, list(fixed.files[number])),
            ),
        )
        for number in numbers
        if rows[number].status in RUNNABLE
    }


def plan_running(runtime: Runtime, plan_id: uuid.UUID) -> bool:
    """Whether the plan still accepts new model calls (not paused, cancelled or over budget)."""
    with runtime.reading() as session:
        plan = session.get(Masterplan, plan_id)
        return plan is not None and plan.status == "in_progress"


def pause_plan(runtime: Runtime, plan_id: uuid.UUID, reason: str) -> None:
    """Pause a running plan for a reason the user must fix (e.g. no model configured)."""

    def op(session: Session) -> None:
        plan = state.lock_plan(session, plan_id)
        if plan.status == "in_progress":
            change_plan_status(session, plan, "paused", actor=None, action="pause", reason=reason)

    write(runtime, op)


def _stored_output(answer: str | None) -> CoderOutput | None:
    if not answer:
        return None
    try:
        return CoderOutput.model_validate_json(answer)
    except ValidationError:
        return None


def _task(session: Session, plan_id: uuid.UUID, number: int) -> Task:
    return session.scalars(
        select(Task).where(Task.masterplan_id == plan_id, Task.task_number == number)
    ).one()
