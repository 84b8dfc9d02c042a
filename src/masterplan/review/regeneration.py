"""Handing a regenerated task to the execution engine: wake the plan's run, or name a new one."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from masterplan.execution.service import AfterCommit, _continue_run
from masterplan.models import Masterplan
from masterplan.runtime import Runtime


def continue_after_regenerate(session: Session, runtime: Runtime, plan_id: uuid.UUID) -> AfterCommit:
    """What to do after commit: nothing while the plan is paused (resume runs it), else wake or start."""
    plan = session.get(Masterplan, plan_id)
    assert plan is not None
    if plan.status != "in_progress":
        return AfterCommit(plan)
    return _continue_run(session, runtime, plan)
