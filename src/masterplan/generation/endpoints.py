"""Generation endpoints: start a durable generation, follow its status."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from masterplan.auth.dependencies import GenerationAllowance
from masterplan.auth.schemas import RATE_LIMITED
from masterplan.conversations import service as conversations
from masterplan.deps import CurrentUser, RuntimeDep, SessionDep
from masterplan.generation import service
from masterplan.generation.schemas import GenerateAccepted, GenerateRequest, GenerationOut
from masterplan.generation.workflow import launch_generation
from masterplan.llm.errors import model_errors

router = APIRouter(tags=["generation"])


@router.post(
    "/masterplans/generate",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=GenerateAccepted,
    responses=RATE_LIMITED,
)
def generate(
    body: GenerateRequest,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    _allowed: GenerationAllowance,
) -> GenerateAccepted:
    """Start discovery and planning in the background; follow it with GET /generations/{id}."""
    conversation = (
        conversations.get_conversation(session, user, body.conversation_id) if body.conversation_id else None
    )
    with model_errors():
        generation = service.create_generation(
            session, user, body.request, runtime.settings, conversation=conversation, model=body.model
        )
    session.commit()  # the workflow reads the generation: it must be stored before it starts
    launch_generation(generation.id, body.model)
    return GenerateAccepted(generation_id=generation.id, conversation_id=generation.conversation_id)


@router.get("/generations/{generation_id}", response_model=GenerationOut)
def get_generation(generation_id: uuid.UUID, session: SessionDep, user: CurrentUser) -> GenerationOut:
    """Status, stage, error and, when done, the plan id of a generation."""
    return GenerationOut.model_validate(service.get_generation(session, user, generation_id))
