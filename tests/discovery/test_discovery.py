"""Discovery: the stored document (owner, session, model, tokens, cost), its events and its endpoint."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic_ai import Agent

import masterplan.llm.run as llm_run
from masterplan.config import Settings
from masterplan.discovery.agent import discovery_agent, discovery_prompt, run_discovery
from masterplan.discovery.schemas import DiscoveryOutput
from masterplan.discovery.service import store_discovery
from masterplan.events import events_after
from masterplan.events.store import conversation_stream
from masterplan.llm import CallUsage, resolve_model
from masterplan.models import DiscoveryDocument, User
from masterplan.runtime import Runtime
from tests.fixtures.llm import run_generation
from tests.generation.test_api import other_user_headers


async def test_the_agent_answers_the_discovery_schema(settings: Settings) -> None:
    resolved = resolve_model("discovery", settings, override="sim:tokens=150,price_in=3,price_out=15")
    output, usage = await run_discovery("a library system for books, members and loans", resolved)
    assert isinstance(output, DiscoveryOutput)
    assert {c.name for c in output.bounded_contexts} >= {"Library management", "Books management"}
    assert output.aggregates and output.domain_events and output.services and output.value_objects
    assert usage.model == "sim:tokens=150,price_in=3,price_out=15"
    assert usage.output_tokens == 150
    assert usage.cost_usd == pytest.approx((usage.input_tokens * 3 + 150 * 15) / 1_000_000)
    assert "<request>a library system" in discovery_prompt("a library system")
    agent: Agent[None, DiscoveryOutput] = discovery_agent(resolved)
    assert agent.name == "discovery"


def test_a_generation_stores_its_discovery_with_events(durable: Runtime, local_user: User) -> None:
    generation = run_generation(durable, local_user, "sim:tokens=80")
    with durable.transaction() as session:
        document = session.get(DiscoveryDocument, generation.discovery_id)
        assert document is not None
        assert document.owner_id == local_user.id
        assert document.conversation_id == generation.conversation_id
        assert document.session_id == str(generation.id)
        assert document.request_text == "a todo REST API with users"
        assert document.llm_model == "sim:tokens=80"
        assert document.output_tokens == 80 and document.input_tokens > 0
        assert document.cost_usd is not None and document.cost_usd > 0
        assert document.trace_id == generation.trace_id
        events = events_after(session, conversation_stream(generation.conversation_id))
    start, complete = events[0], events[1]
    assert (start.type, complete.type) == ("discovery_start", "discovery_complete")
    assert complete.payload["discovery_id"] == str(document.id)
    assert complete.payload["domain"] == document.domain
    assert complete.payload["tokens"] == 80
    assert start.payload["generation_id"] == str(generation.id)


def test_discovery_progress_is_reported_while_the_model_works(
    durable: Runtime, local_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(llm_run, "HEARTBEAT_SECONDS", 0.05)
    generation = run_generation(durable, local_user, "sim:latency=0.3")
    with durable.transaction() as session:
        events = events_after(session, conversation_stream(generation.conversation_id))
    types = [e.type for e in events]
    first_complete = types.index("discovery_complete")
    assert "discovery_progress" in types[:first_complete]
    progress = [e for e in events if e.type == "masterplan_tokens_progress"]
    assert len(progress) > 5  # heartbeats during each planning call, plus one after each


def test_documents_are_visible_to_their_owner_only(
    client: TestClient, runtime: Runtime, local_user: User
) -> None:
    with runtime.transaction() as session:
        document = store_discovery(
            session,
            owner_id=local_user.id,
            request_text="shop",
            output=DiscoveryOutput(domain="Retail"),
            usage=CallUsage(model="sim", input_tokens=1, output_tokens=1, requests=1, cost_usd=None),
        )
    assert client.get(f"/api/v1/discovery/{document.id}").json()["domain"] == "Retail"
    headers = other_user_headers(runtime)
    assert client.get(f"/api/v1/discovery/{document.id}", headers=headers).status_code == 404
