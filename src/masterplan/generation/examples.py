"""Few-shot examples for the planner: the user's most similar approved or completed plans, by full-text
search (PostgreSQL tsvector; keyword LIKE scoring on SQLite), and the example plans shipped with the package."""

from __future__ import annotations

import json
import re
import uuid
from functools import lru_cache
from importlib.resources import files

from sqlalchemy import Integer, case, func, literal, select
from sqlalchemy.orm import Session, selectinload

from masterplan.models import Masterplan, Milestone, Phase, Task
from masterplan.plans.schemas import PlanDocument
from masterplan.plans.service import document_of

EXAMPLE_STATUSES = ("approved", "completed")
MAX_TERMS = 12
STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "into",
        "your",
        "our",
        "are",
        "was",
        "were",
        "will",
        "would",
        "should",
        "could",
        "have",
        "has",
        "had",
        "build",
        "make",
        "create",
        "write",
        "need",
        "want",
        "small",
        "simple",
        "using",
        "use",
        "app",
        "application",
        "some",
    ]
)


def search_terms(text: str) -> list[str]:
    """Distinct lowercase words worth searching for."""
    terms: list[str] = []
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if len(word) > 2 and word not in STOP and word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


@lru_cache(maxsize=1)
def shipped_examples() -> tuple[PlanDocument, ...]:
    """The example plans written by the team (src/masterplan/examples/*.json)."""
    folder = files("masterplan").joinpath("examples")
    documents = [
        PlanDocument.model_validate(json.loads(entry.read_text()))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".json")
    ]
    return tuple(documents)


def _overlap(terms: list[str], document: PlanDocument) -> int:
    text = " ".join(
        [document.project_name, document.description, *document.tech_stack]
        + [t.name for t in document.all_tasks()]
    ).lower()
    return sum(1 for term in terms if term in text)


def best_shipped(request_text: str, limit: int = 1) -> list[PlanDocument]:
    """The shipped examples sharing the most words with the request."""
    terms = search_terms(request_text)
    ranked = sorted(shipped_examples(), key=lambda d: -_overlap(terms, d))
    return ranked[:limit]


def similar_plan_ids(
    session: Session, owner_id: uuid.UUID, request_text: str, limit: int = 2
) -> list[uuid.UUID]:
    """The owner's approved or completed plans most similar to the request."""
    terms = search_terms(request_text)
    if not terms:
        return []
    text = (
        func.coalesce(Masterplan.project_name, "") + literal(" ") + func.coalesce(Masterplan.description, "")
    )
    base = select(Masterplan.id).where(
        Masterplan.owner_id == owner_id, Masterplan.status.in_(EXAMPLE_STATUSES)
    )
    if session.get_bind().dialect.name == "postgresql":
        vector = func.to_tsvector("english", text)
        query = func.to_tsquery("english", " | ".join(terms))
        stmt = (
            base.where(vector.op("@@")(query))
            .order_by(func.ts_rank(vector, query).desc(), Masterplan.created_at.desc())
            .limit(limit)
        )
    else:
        lowered = func.lower(text)
        score = sum(
            (case((lowered.like(f"%{term}%"), 1), else_=0) for term in terms), literal(0, type_=Integer)
        )
        stmt = base.where(score > 0).order_by(score.desc(), Masterplan.created_at.desc()).limit(limit)
    return list(session.scalars(stmt).all())


def similar_plans(
    session: Session, owner_id: uuid.UUID, request_text: str, limit: int = 2
) -> list[PlanDocument]:
    """The similar plans as documents (the shape the planner writes)."""
    ids = similar_plan_ids(session, owner_id, request_text, limit)
    if not ids:
        return []
    plans = session.scalars(
        select(Masterplan)
        .where(Masterplan.id.in_(ids))
        .options(
            selectinload(Masterplan.phases)
            .selectinload(Phase.milestones)
            .selectinload(Milestone.tasks)
            .selectinload(Task.subtasks)
        )
    ).all()
    by_id = {p.id: p for p in plans}
    return [document_of(by_id[i]) for i in ids if i in by_id]


def skeleton_example(document: PlanDocument) -> str:
    """An example's shape: phases > milestones with their task counts."""
    lines = [f"Example plan {document.project_name!r} ({', '.join(document.tech_stack)}):"]
    number = 0
    for phase in document.phases:
        lines.append(f"  phase {phase.phase_type}: {phase.name}")
        for milestone in phase.milestones:
            number += 1
            lines.append(f"    milestone {number}: {milestone.name} ({len(milestone.tasks)} tasks)")
    return "\n".join(lines)


def task_examples(document: PlanDocument, count: int = 3) -> str:
    """A few tasks of an example, as JSON, to show the expected detail."""
    tasks = [t for t in document.all_tasks() if t.depends_on][:count] or document.all_tasks()[:count]
    return json.dumps([t.model_dump(mode="json") for t in tasks], indent=None)
