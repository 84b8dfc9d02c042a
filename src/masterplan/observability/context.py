"""What every log line and span of a workflow carries: trace_id, masterplan_id, task_id (or generation_id).

Bound with structlog's contextvars, so they reach every log line of the step, including the threads a
wave's tasks run in (they start from a copy of the workflow's context).
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import structlog
from sqlalchemy import select

from masterplan.models import Generation, Masterplan, Task
from masterplan.observability.tracing import span
from masterplan.runtime import Runtime

_CACHE_SIZE = 256
_lock = threading.Lock()
# plan id -> (trace id, task number -> task id): neither changes once a plan runs.
_plans: OrderedDict[uuid.UUID, tuple[str, dict[int, uuid.UUID]]] = OrderedDict()


def _plan_facts(runtime: Runtime, plan_id: uuid.UUID) -> tuple[str, dict[int, uuid.UUID]]:
    with _lock:
        if plan_id in _plans:
            _plans.move_to_end(plan_id)
            return _plans[plan_id]
    with runtime.reading() as session:
        trace_id = session.scalar(select(Masterplan.trace_id).where(Masterplan.id == plan_id)) or ""
        rows = session.execute(select(Task.task_number, Task.id).where(Task.masterplan_id == plan_id))
        tasks = {int(number): task_id for number, task_id in rows}
    with _lock:
        _plans[plan_id] = (trace_id, tasks)
        while len(_plans) > _CACHE_SIZE:
            _plans.popitem(last=False)
    return trace_id, tasks


@contextmanager
def scope(name: str, trace_id: str, **fields: Any) -> Iterator[None]:
    """Bind trace_id and `fields` to the logs of this block and open a span named `name`."""
    values = {k: str(v) for k, v in fields.items() if v is not None}
    with ExitStack() as stack:
        stack.enter_context(structlog.contextvars.bound_contextvars(trace_id=trace_id, **values))
        stack.enter_context(span(name, trace_id, **values))
        yield


@contextmanager
def plan_scope(runtime: Runtime, plan_id: str, execution_id: str | None = None) -> Iterator[None]:
    """The logs and span of one plan's run."""
    try:
        trace_id, _ = _plan_facts(runtime, uuid.UUID(plan_id))
    except Exception:  # logging context must never stop a run
        trace_id = ""
    with scope("masterplan.execute_plan", trace_id, masterplan_id=plan_id, execution_id=execution_id):
        yield


@contextmanager
def task_scope(runtime: Runtime, plan_id: str, number: int) -> Iterator[None]:
    """The logs and span of one task's execution."""
    try:
        trace_id, tasks = _plan_facts(runtime, uuid.UUID(plan_id))
    except Exception:
        trace_id, tasks = "", {}
    with scope(
        "masterplan.execute_task",
        trace_id,
        masterplan_id=plan_id,
        task_id=tasks.get(number),
        task_number=number,
    ):
        yield


@contextmanager
def generation_scope(runtime: Runtime, generation_id: str) -> Iterator[None]:
    """The logs and span of a generation (discovery and planning)."""
    try:
        with runtime.reading() as session:
            trace_id = (
                session.scalar(select(Generation.trace_id).where(Generation.id == uuid.UUID(generation_id)))
                or ""
            )
    except Exception:
        trace_id = ""
    with scope("masterplan.generation", trace_id, generation_id=generation_id):
        yield
