"""OpenTelemetry: with an OTLP endpoint set, a run exports spans in the plan's own trace (its trace_id),
one for the run and one per task; the structured logs of those steps carry the same ids."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from masterplan.app import create_app
from masterplan.config import Settings
from masterplan.observability.tracing import configure_tracing, shutdown_tracing, traces_url
from masterplan.plans.synthetic import synthetic_plan
from masterplan.runtime import build_runtime
from tests.conftest import TOKEN, make_settings
from tests.execution.helpers import approved_plan, execute, wait_plan

trace_pb2 = pytest.importorskip("opentelemetry.proto.collector.trace.v1.trace_service_pb2")


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver: keeps every exported span as (trace id hex, name, attributes)."""

    spans: list[tuple[str, str, dict[str, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = trace_pb2.ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                for span in scope.spans:
                    attributes = {a.key: a.value.string_value for a in span.attributes}
                    Collector.spans.append((span.trace_id.hex(), span.name, attributes))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        return


@pytest.fixture
def collector() -> Iterator[str]:
    Collector.spans = []
    server = HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_traces_url_accepts_a_collector_base_address() -> None:
    assert traces_url("http://otel:4318") == "http://otel:4318/v1/traces"
    assert traces_url("http://otel:4318/v1/traces/") == "http://otel:4318/v1/traces"


def test_without_an_endpoint_nothing_is_configured(tmp_path: Path, db_url: str) -> None:
    assert configure_tracing(make_settings(tmp_path, db_url), role="test") is False


def test_a_run_exports_its_spans_in_the_plan_s_trace(tmp_path: Path, db_url: str, collector: str) -> None:
    settings: Settings = make_settings(tmp_path / "data", db_url, otlp_endpoint=collector)
    assert configure_tracing(settings, role="test")
    runtime = build_runtime(settings)
    try:
        with TestClient(create_app(runtime=runtime), headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            plan_id = approved_plan(client, synthetic_plan(3, seed=1))
            execute(client, plan_id)
            plan = wait_plan(runtime, plan_id, {"completed"})
    finally:
        shutdown_tracing()  # flushes what is buffered
        runtime.close()
    mine = [(name, attributes) for trace, name, attributes in Collector.spans if trace == plan.trace_id]
    names = [name for name, _ in mine]
    assert names.count("masterplan.execute_plan") >= 1
    assert names.count("masterplan.execute_task") == 3
    tasks = [attributes for name, attributes in mine if name == "masterplan.execute_task"]
    assert {a["masterplan_id"] for a in tasks} == {plan_id}
    assert sorted(a["task_number"] for a in tasks) == ["1", "2", "3"]
    assert all(a.get("task_id") for a in tasks)
