"""A human's decisions on a review: approve, reject, edit (a committed fix), regenerate (the coder again,
with feedback). Every decision is audited and sent as an event. Services never commit."""

from __future__ import annotations

import uuid
from contextlib import suppress
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.errors import Conflict, DomainError
from masterplan.execution import state
from masterplan.execution.validation import ValidationReport, validate_files
from masterplan.models import AcceptanceTest, Masterplan, Review, Task, User
from masterplan.plans.graph import dependents_closure
from masterplan.plans.service import change_plan_status
from masterplan.plans.transitions import REVIEW_TRANSITIONS, can_transition, move_review
from masterplan.review import repository
from masterplan.review.schemas import TaskFile
from masterplan.review.service import audit_review, emit_update
from masterplan.workspace import read_text, workspace_root, write_atomic
from masterplan.workspace.git import GitError, committer_for, sync_index
from masterplan.workspace.paths import UnsafePathError, check_relative_path


class ReviewEditInvalid(DomainError):
    status_code = 422
    code = "review_edit_invalid"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems), details=problems)


def _plan(session: Session, review: Review) -> Masterplan:
    plan = session.get(Masterplan, review.masterplan_id, with_for_update=True)
    assert plan is not None
    return plan


def _check_can_move(review: Review, new: str) -> None:
    if not can_transition(REVIEW_TRANSITIONS, review.status, new):
        move_review(review, new)  # raises the 409 naming the allowed moves


def approve_review(
    session: Session, user: User, review_id: uuid.UUID, client_address: str | None = None
) -> Review:
    """The human accepts the task's work as it is."""
    review, _task = repository.get_review(session, user, review_id, for_update=True)
    plan = _plan(session, review)
    if review.status == "regenerating":
        raise Conflict(
            "the task is being regenerated; its new result settles this review", code="review_regenerating"
        )
    before = {"status": review.status}
    move_review(review, "approved")
    review.reviewer_id = user.id
    audit_review(
        session,
        plan,
        review,
        "review_approved",
        actor=user,
        before=before,
        after={"status": "approved"},
        client_address=client_address,
    )
    emit_update(session, plan, review, "approved")
    session.flush()
    return review


def reject_review(
    session: Session, user: User, review_id: uuid.UUID, feedback: str, client_address: str | None = None
) -> Review:
    """The work is wrong: the task becomes failed (its waiting dependents get blocked); files and git
    stay as they are until the task is regenerated or retried."""
    review, task = repository.get_review(session, user, review_id, for_update=True)
    plan = _plan(session, review)
    before = {"status": review.status, "task_status": task.status}
    move_review(review, "rejected")
    review.reviewer_id = user.id
    review.reviewer_feedback = feedback
    if task.status == "completed":
        task.last_error = f"rejected in review: {feedback}"[:4000]
        state.set_task_status(session, plan, task, "failed", "rejected in review")
        state.refresh_progress(session, plan)
    after = {"status": "rejected", "task_status": task.status}
    audit_review(
        session,
        plan,
        review,
        "review_rejected",
        actor=user,
        before=before,
        after=after,
        reason=feedback,
        client_address=client_address,
    )
    emit_update(session, plan, review, "rejected")
    session.flush()
    return review


def _reset_covering_tests(session: Session, task: Task) -> None:
    """The task's files change: its acceptance tests must run again."""
    for test in session.scalars(
        select(AcceptanceTest).where(AcceptanceTest.masterplan_id == task.masterplan_id)
    ):
        if task.task_number in (test.covers_tasks or []) and test.status != "running":
            test.status = "pending"


def _edit_problems(task: Task, files: list[TaskFile]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for file in files:
        try:
            path = check_relative_path(file.path)
        except UnsafePathError as exc:
            problems.append(str(exc))
            continue
        if path not in task.target_files:
            problems.append(
                f"{path!r} is not a target file of task {task.task_number}: {', '.join(task.target_files)}"
            )
        if path in seen:
            problems.append(f"{path!r} is given twice")
        seen.add(path)
    return problems


def _validated_contents(
    root: Path, task: Task, files: list[TaskFile]
) -> tuple[dict[str, str], ValidationReport]:
    """The files by normalised path and their validation; 422 listing every problem."""
    problems = _edit_problems(task, files)
    if problems:
        raise ReviewEditInvalid(problems)
    contents = {check_relative_path(f.path): f.content for f in files}
    report = validate_files(list(contents.items()))
    if report.errors:
        raise ReviewEditInvalid(report.errors)
    if all(read_text(root, p) == c for p, c in contents.items()):
        raise ReviewEditInvalid(
            ["the new content is the same as the files in the workspace; change something"]
        )
    return contents, report


def edit_review(
    session: Session,
    user: User,
    review_id: uuid.UUID,
    files: list[TaskFile],
    *,
    message: str | None = None,
    client_address: str | None = None,
) -> Review:
    """New content for the task's target files: validated, written, committed as a review edit."""
    review, task = repository.get_review(session, user, review_id, for_update=True)
    plan = _plan(session, review)
    _check_can_move(review, "edited")
    if task.status != "completed":
        raise Conflict(
            f"task {task.task_number} is {task.status!r}; edit it once it has completed",
            code="invalid_status",
        )
    root = workspace_root(plan.workspace_path)
    contents, report = _validated_contents(root, task, files)
    for path, content in contents.items():
        write_atomic(root, path, content)
    title = f"review edit of task {task.task_number}: {' '.join(task.name.split())}"
    try:
        sha = committer_for(root).commit(contents, title + (f"\n\n{message}" if message else ""))
    except GitError as exc:
        raise Conflict(
            f"the workspace could not commit the edit (try again): {exc}", code="workspace_busy"
        ) from None
    with suppress(GitError):
        sync_index(root)
    before = {"status": review.status, "commit_sha": task.commit_sha}
    task.commit_sha = sha or task.commit_sha
    task.modified_files = sorted(set(task.modified_files) | set(contents))
    task.validation_passed = True
    task.validation_errors = []
    task.validation_logs = report.log_text
    _reset_covering_tests(session, task)
    move_review(review, "edited")
    review.reviewer_id = user.id
    after = {"status": "edited", "commit_sha": task.commit_sha, "files": sorted(contents)}
    audit_review(
        session,
        plan,
        review,
        "review_edited",
        actor=user,
        before=before,
        after=after,
        reason=message,
        client_address=client_address,
    )
    emit_update(session, plan, review, "edited")
    session.flush()
    return review


def _unblock_dependents(session: Session, plan: Masterplan, task: Task) -> None:
    tasks = state.tasks_of(session, plan.id)
    graph = {n: t.depends_on for n, t in tasks.items()}
    for number in sorted(dependents_closure(graph, [task.task_number])):
        if tasks[number].status == "blocked":
            state.set_task_status(
                session, plan, tasks[number], "pending", f"task {task.task_number} is regenerated"
            )


def regenerate_review(
    session: Session, user: User, review_id: uuid.UUID, feedback: str, client_address: str | None = None
) -> Review:
    """Send the task back to the coder with the feedback: the task becomes ready again (a finished plan
    runs again); when it ends, `score_task` gives it a new confidence and settles this review."""
    review, task = repository.get_review(session, user, review_id, for_update=True)
    plan = _plan(session, review)
    _check_can_move(review, "regenerating")
    if task.status not in ("completed", "failed"):
        raise Conflict(
            f"task {task.task_number} is {task.status!r}; regenerate it once it has finished",
            code="invalid_status",
        )
    if plan.status in ("cancelled", "rejected"):
        raise Conflict(f"the plan is {plan.status}; nothing can run again", code="invalid_status")
    before = {"status": review.status, "task_status": task.status}
    move_review(review, "regenerating")
    review.reviewer_id = user.id
    review.reviewer_feedback = feedback
    was_failed = task.status == "failed"
    task.retry_count = 0
    task.validation_passed = None
    task.completed_at = None
    state.set_task_status(session, plan, task, "ready", "regenerating after review")
    if was_failed:
        _unblock_dependents(session, plan, task)
    _reset_covering_tests(session, task)
    if plan.status in ("completed", "failed"):
        change_plan_status(
            session,
            plan,
            "in_progress",
            actor=user,
            action="review_regenerate",
            reason=f"regenerating task {task.task_number}",
            client_address=client_address,
        )
    state.refresh_progress(session, plan)
    after = {"status": "regenerating", "task_status": task.status}
    audit_review(
        session,
        plan,
        review,
        "review_regenerate",
        actor=user,
        before=before,
        after=after,
        reason=feedback,
        client_address=client_address,
    )
    emit_update(session, plan, review, "regenerate")
    session.flush()
    return review
