"""Discovery endpoints: read a stored analysis."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from masterplan.deps import CurrentUser, SessionDep
from masterplan.discovery.schemas import DiscoveryOut
from masterplan.discovery.service import get_discovery

router = APIRouter(prefix="/discovery", tags=["discovery"])


@router.get("/{discovery_id}", response_model=DiscoveryOut)
def read_discovery(discovery_id: uuid.UUID, session: SessionDep, user: CurrentUser) -> DiscoveryOut:
    """A discovery document: domain, contexts, aggregates, events, services, assumptions, risks."""
    return DiscoveryOut.model_validate(get_discovery(session, user, discovery_id))
