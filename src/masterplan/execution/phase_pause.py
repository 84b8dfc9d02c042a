"""Pause after a phase: once every task of a `pause_after` phase has ended, the run pauses (once per phase)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from masterplan.execution.scheduler import TERMINAL
from masterplan.models import HistoryEntry, Masterplan, Milestone, Phase, Task
from masterplan.plans.service import change_plan_status

PHASE_PAUSE = "phase_pause"
ACTION = "pause_after_phase"


def paused_phases(session: Session, plan: Masterplan) -> set[int]:
    """Phase numbers the run already paused after (read from the audit log, so a resume is not undone)."""
    rows = session.scalars(
        select(HistoryEntry.after).where(HistoryEntry.masterplan_id == plan.id, HistoryEntry.action == ACTION)
    )
    return {int(after["phase"]) for after in rows if after and "phase" in after}


def pause_after_finished_phase(session: Session, plan: Masterplan, statuses: Mapping[int, str]) -> bool:
    """Pause a running plan when a `pause_after` phase has just ended; True when it paused.

    `statuses` holds every task's current status, by number."""
    if plan.status != "in_progress":
        return False
    rows = session.execute(
        select(Phase.number, Task.task_number)
        .join(Milestone, Milestone.phase_id == Phase.id)
        .join(Task, Task.milestone_id == Milestone.id)
        .where(Phase.masterplan_id == plan.id, Phase.pause_after.is_(True))
        .order_by(Phase.number)
    ).all()
    if not rows:
        return False
    members: dict[int, list[int]] = {}
    for phase, number in rows:
        members.setdefault(phase, []).append(number)
    done = paused_phases(session, plan)
    for phase, numbers in members.items():
        if phase in done or any(statuses[n] not in TERMINAL for n in numbers if n in statuses):
            continue
        change_plan_status(
            session,
            plan,
            "paused",
            actor=None,
            action=ACTION,
            reason=PHASE_PAUSE,
            extra_after={"phase": phase},
        )
        return True
    return False
