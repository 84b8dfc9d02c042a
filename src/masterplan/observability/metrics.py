"""Prometheus metrics. Database-derived figures are computed at scrape time, so they are right across
every worker process (workers serve no HTTP, so whatever they observe themselves could not be scraped):
task and wave durations, success, retries, acceptance, reviews, confidence, cost, tokens by model.
This process adds its own sockets, events sent and HTTP request durations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from masterplan.models import AcceptanceTestRun, ExecutionEvent, Generation, Masterplan, Review, Task


class Metrics:
    """The process's metric objects; create one per app so tests do not share state."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.socket_connections = Gauge(
            "masterplan_socket_connections",
            "Socket.IO clients connected to this process.",
            registry=self.registry,
        )
        self.events_sent = Counter(
            "masterplan_events_sent_total",
            "Events emitted to Socket.IO rooms by this process.",
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "masterplan_http_request_duration_seconds",
            "API request durations.",
            ["method", "route", "status"],
            registry=self.registry,
        )

    def attach_database(self, factory: sessionmaker[Session]) -> None:
        self.registry.register(DatabaseCollector(factory))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class DatabaseCollector(Collector):
    """Figures that describe all processes' work, read from the database on each scrape."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def collect(self) -> Iterator[Metric]:
        with self.factory() as session:
            yield from self._tasks(session)
            yield from self._durations(session)
            yield from self._quality(session)
            yield from self._plans(session)
            yield from self._generations(session)

    def _durations(self, session: Session) -> Iterator[Metric]:
        tasks = HistogramMetricFamily(
            "masterplan_task_duration_seconds",
            "Time from a task's start to its end, by final status.",
            labels=["status"],
        )
        seconds = _seconds_between(session, Task.started_at, Task.completed_at)
        finished = Task.started_at.is_not(None) & Task.completed_at.is_not(None)
        for status in ("completed", "failed"):
            columns = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in TASK_BUCKETS]
            row = session.execute(
                select(func.count(), func.sum(seconds), *columns).where(finished, Task.status == status)
            ).one()
            count, total, *cumulative = row
            tasks.add_metric(
                [status],
                [(_bucket(b), float(c or 0)) for b, c in zip(TASK_BUCKETS, cumulative, strict=True)]
                + [("+Inf", float(count))],
                float(total or 0),
            )
        yield tasks
        yield _histogram(
            "masterplan_wave_duration_seconds",
            "Time a wave takes from its start to its last task's end.",
            WAVE_BUCKETS,
            _wave_durations(session),
        )

    def _tasks(self, session: Session) -> Iterator[Metric]:
        by_status = GaugeMetricFamily("masterplan_tasks", "Tasks by status.", labels=["status"])
        for status, count in session.execute(select(Task.status, func.count()).group_by(Task.status)):
            by_status.add_metric([status], count)
        yield by_status
        finished = session.execute(
            select(
                func.count(),
                func.sum(case((Task.status == "completed", 1), else_=0)),
                func.avg(Task.retry_count),
                func.avg(Task.confidence),
            ).where(Task.status.in_(("completed", "failed")))
        ).one()
        total, completed, retries, confidence = finished
        yield _gauge(
            "masterplan_task_success_ratio",
            "Completed share of finished tasks.",
            (completed or 0) / total if total else 0.0,
        )
        yield _gauge(
            "masterplan_task_retries_average", "Average retries per finished task.", float(retries or 0)
        )
        yield _gauge(
            "masterplan_confidence_average", "Average confidence of scored tasks.", float(confidence or 0)
        )
        tokens = GaugeMetricFamily(
            "masterplan_llm_task_tokens", "Coder tokens recorded on tasks by model.", labels=["model", "kind"]
        )
        cost = GaugeMetricFamily(
            "masterplan_llm_task_cost_usd", "Coder cost recorded on tasks by model.", labels=["model"]
        )
        rows = session.execute(
            select(
                Task.llm_model,
                func.sum(Task.input_tokens),
                func.sum(Task.output_tokens),
                func.sum(Task.cost_usd),
            )
            .where(Task.llm_model != "")
            .group_by(Task.llm_model)
        )
        for model, tokens_in, tokens_out, dollars in rows:
            tokens.add_metric([model, "input"], tokens_in or 0)
            tokens.add_metric([model, "output"], tokens_out or 0)
            cost.add_metric([model], float(dollars or 0))
        yield tokens
        yield cost

    def _quality(self, session: Session) -> Iterator[Metric]:
        runs, passed = session.execute(
            select(func.count(), func.sum(case((AcceptanceTestRun.passed.is_(True), 1), else_=0)))
        ).one()
        yield _gauge(
            "masterplan_acceptance_pass_ratio",
            "Share of acceptance test runs that passed.",
            (passed or 0) / runs if runs else 0.0,
        )
        pending = (
            session.scalar(select(func.count()).select_from(Review).where(Review.status == "pending")) or 0
        )
        yield _gauge("masterplan_review_queue_size", "Reviews waiting for a human.", pending)

    def _plans(self, session: Session) -> Iterator[Metric]:
        plans = GaugeMetricFamily("masterplan_plans", "Plans by status.", labels=["status"])
        for status, count in session.execute(
            select(Masterplan.status, func.count()).group_by(Masterplan.status)
        ):
            plans.add_metric([status], count)
        yield plans
        cost = GaugeMetricFamily(
            "masterplan_plan_cost_usd", "Actual cost per executed plan.", labels=["masterplan_id"]
        )
        for plan_id, dollars in session.execute(
            select(Masterplan.id, Masterplan.actual_cost_usd).where(Masterplan.started_at.is_not(None))
        ):
            cost.add_metric([str(plan_id)], float(dollars or 0))
        yield cost

    def _generations(self, session: Session) -> Iterator[Metric]:
        tokens = GaugeMetricFamily(
            "masterplan_llm_generation_tokens",
            "Discovery and planning tokens recorded on generations by model.",
            labels=["model", "kind"],
        )
        cost = GaugeMetricFamily(
            "masterplan_llm_generation_cost_usd",
            "Discovery and planning cost recorded on generations by model.",
            labels=["model"],
        )
        rows = session.execute(
            select(
                Generation.model,
                func.sum(Generation.input_tokens),
                func.sum(Generation.output_tokens),
                func.sum(Generation.cost_usd),
            ).group_by(Generation.model)
        )
        for model, tokens_in, tokens_out, dollars in rows:
            tokens.add_metric([model or "default", "input"], tokens_in or 0)
            tokens.add_metric([model or "default", "output"], tokens_out or 0)
            cost.add_metric([model or "default"], float(dollars or 0))
        yield tokens
        yield cost


TASK_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)
WAVE_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800)


def _seconds_between(session: Session, start: Any, end: Any) -> Any:
    """end - start in seconds, in SQL (PostgreSQL or SQLite)."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def _wave_durations(session: Session) -> list[float]:
    """Seconds from each wave's start event to its complete event (waves that completed)."""
    rows = session.execute(
        select(ExecutionEvent.stream, ExecutionEvent.type, ExecutionEvent.payload, ExecutionEvent.created_at)
        .where(ExecutionEvent.type.in_(("wave_execution_start", "wave_execution_complete")))
        .order_by(ExecutionEvent.stream, ExecutionEvent.seq)
    )
    started: dict[tuple[str, object], Any] = {}
    durations: list[float] = []
    for stream, kind, payload, created_at in rows:
        key = (stream, payload.get("wave_number"))
        if kind == "wave_execution_start":
            started[key] = created_at
        elif key in started:
            durations.append(max(0.0, (created_at - started.pop(key)).total_seconds()))
    return durations


def _histogram(
    name: str, text: str, buckets: tuple[float, ...], values: list[float]
) -> HistogramMetricFamily:
    cumulative = [(_bucket(b), float(sum(1 for v in values if v <= b))) for b in buckets]
    return HistogramMetricFamily(
        name, text, buckets=[*cumulative, ("+Inf", float(len(values)))], sum_value=float(sum(values))
    )


def _bucket(bound: float) -> str:
    return str(float(bound))


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)
