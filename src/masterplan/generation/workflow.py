"""The durable generation: a DBOS workflow (id = generation id) whose LLM calls and writes are steps.

discovery -> store discovery -> examples -> skeleton -> one call per milestone -> store the plan (one
transaction). A restarted process resumes it after the last finished step. Any failure is stored on the
generation with its reason, and no plan rows exist.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import structlog
from dbos import DBOS, WorkflowHandle
from pydantic_ai.exceptions import ModelAPIError, UnexpectedModelBehavior

from masterplan.discovery.agent import run_discovery
from masterplan.discovery.schemas import DiscoveryOutput
from masterplan.discovery.service import record_discovery_event, store_discovery
from masterplan.durable import GENERATION_QUEUE, RECONNECT, current_runtime, start_workflow
from masterplan.errors import ConfigurationError, DomainError
from masterplan.events.schemas import (
    DiscoveryComplete,
    DiscoveryProgress,
    DiscoveryStart,
    MasterplanGenerationStart,
    MasterplanTokensProgress,
)
from masterplan.generation import examples, service
from masterplan.generation.planner import GenerationFailed, assemble_plan, plan_milestone, plan_skeleton
from masterplan.generation.prompts import milestone_prompt, skeleton_prompt
from masterplan.generation.schemas import PlanSkeleton
from masterplan.llm import CallUsage, configured_name, resolve_model
from masterplan.llm.errors import model_failure_reason
from masterplan.observability.context import generation_scope
from masterplan.plans.schemas import TaskDocument

log = structlog.get_logger(__name__)
WORKFLOW_NAME = "masterplan.generation"


def _in_transaction(fn: Any, *args: Any) -> Any:
    with current_runtime().transaction() as session:
        return fn(session, *args)


def _progress_writer(generation_id: str, tokens_before: CallUsage, make_event: Any) -> Any:
    """An async callback recording a progress event (in its own transaction) for in-flight tokens."""

    async def write(tokens_in_flight: int) -> None:
        def record(session: Any) -> None:
            generation = service.load_generation(session, uuid.UUID(generation_id))
            payload = make_event(tokens_before.output_tokens + tokens_in_flight)
            payload.conversation_id, payload.generation_id = generation.conversation_id, generation.id
            if isinstance(payload, DiscoveryProgress):
                record_discovery_event(session, payload, trace_id=generation.trace_id)
            else:
                service.record_generation_event(session, generation, payload)

        await asyncio.to_thread(_in_transaction, record)

    return write


@DBOS.step(name="generation.begin", **RECONNECT)
def begin_step(generation_id: str) -> dict[str, Any]:
    """Mark the generation running (discovery stage) and announce discovery; returns its inputs."""

    def begin(session: Any) -> dict[str, Any]:
        generation = service.load_generation(session, uuid.UUID(generation_id), for_update=True)
        if generation.status == "queued":
            service.set_stage(session, generation, "discovery")
            payload = DiscoveryStart(
                conversation_id=generation.conversation_id,
                generation_id=generation.id,
                message="Analysing the domain",
            )
            record_discovery_event(session, payload, trace_id=generation.trace_id)
        return {
            "request_text": generation.request_text,
            "conversation_id": str(generation.conversation_id),
            "owner_id": str(generation.owner_id),
            "status": generation.status,
        }

    result: dict[str, Any] = _in_transaction(begin)
    return result


@DBOS.step(name="generation.discover", **RECONNECT)
async def discover_step(generation_id: str, request_text: str, model: str | None) -> dict[str, Any]:
    """The discovery call, with progress events while it runs."""
    resolved = resolve_model("discovery", current_runtime().settings, override=model)

    def progress_event(tokens: int) -> DiscoveryProgress:
        return DiscoveryProgress(message=f"Analysing the domain ({tokens} tokens)", tokens=tokens)

    on_progress = _progress_writer(generation_id, CallUsage(), progress_event)
    try:
        output, usage = await run_discovery(request_text, resolved, on_progress=on_progress)
    except (UnexpectedModelBehavior, ModelAPIError) as exc:
        raise GenerationFailed(model_failure_reason("analysing the domain", exc, [], 0)) from None
    return {"output": output.model_dump(mode="json"), "usage": usage.model_dump()}


@DBOS.step(name="generation.store_discovery", **RECONNECT)
def store_discovery_step(generation_id: str, output: dict[str, Any], usage: dict[str, Any]) -> str:
    """Store the discovery document, announce it, and move on to planning; safe to repeat."""

    def store(session: Any) -> str:
        generation = service.load_generation(session, uuid.UUID(generation_id), for_update=True)
        if generation.discovery_id is not None:
            return str(generation.discovery_id)
        discovery = DiscoveryOutput.model_validate(output)
        call = CallUsage.model_validate(usage)
        document = store_discovery(
            session,
            owner_id=generation.owner_id,
            request_text=generation.request_text,
            output=discovery,
            usage=call,
            conversation_id=generation.conversation_id,
            session_id=str(generation.id),
            trace_id=generation.trace_id,
        )
        generation.discovery_id = document.id
        service.record_usage(session, generation, call)
        summary = (
            f"{discovery.domain}: {len(discovery.bounded_contexts)} bounded contexts, "
            f"{len(discovery.aggregates)} aggregates"
        )
        record_discovery_event(
            session,
            DiscoveryComplete(
                conversation_id=generation.conversation_id,
                generation_id=generation.id,
                message=summary,
                tokens=call.output_tokens,
                discovery_id=document.id,
                domain=discovery.domain,
            ),
            trace_id=generation.trace_id,
        )
        service.set_stage(session, generation, "planning")
        service.record_generation_event(
            session,
            generation,
            MasterplanGenerationStart(
                stage="planning", tokens=call.output_tokens, message="Planning phases and milestones"
            ),
        )
        return str(document.id)

    result: str = _in_transaction(store)
    return result


@DBOS.step(name="generation.examples", **RECONNECT)
def examples_step(owner_id: str, request_text: str) -> dict[str, Any]:
    """Few-shot material: the owner's most similar approved/completed plans, then shipped examples."""

    def find(session: Any) -> dict[str, Any]:
        documents = examples.similar_plans(session, uuid.UUID(owner_id), request_text, limit=2)
        documents += examples.best_shipped(request_text, limit=1)
        return {
            "skeletons": [examples.skeleton_example(d) for d in documents[:3]],
            "tasks": examples.task_examples(documents[0]) if documents else None,
        }

    result: dict[str, Any] = _in_transaction(find)
    return result


@DBOS.step(name="generation.skeleton", **RECONNECT)
async def skeleton_step(
    generation_id: str,
    request_text: str,
    discovery: dict[str, Any],
    shapes: list[str],
    model: str | None,
    usage: dict[str, Any],
) -> dict[str, Any]:
    """The skeleton call (phases and milestones with task counts)."""
    resolved = resolve_model("planner", current_runtime().settings, override=model)
    so_far = CallUsage.model_validate(usage)
    prompt = skeleton_prompt(
        request_text,
        DiscoveryOutput.model_validate(discovery),
        [] if resolved.weak else shapes,
        small=resolved.weak,
    )

    def progress_event(tokens: int) -> MasterplanTokensProgress:
        return MasterplanTokensProgress(
            stage="planning", tokens=tokens, message="Planning phases and milestones"
        )

    on_progress = _progress_writer(generation_id, so_far, progress_event)
    skeleton, call = await plan_skeleton(prompt, resolved, on_progress=on_progress)
    total = so_far + call
    milestones = sum(len(p.milestones) for p in skeleton.phases)
    await on_progress_final(generation_id, total, 0, milestones, 0, "Phases and milestones planned")
    return {"skeleton": skeleton.model_dump(mode="json"), "usage": call.model_dump()}


async def on_progress_final(
    generation_id: str, total: CallUsage, done: int, milestones: int, tasks: int, message: str
) -> None:
    """After a call: exact token totals on the generation and a masterplan_tokens_progress event."""

    def record(session: Any) -> None:
        generation = service.load_generation(session, uuid.UUID(generation_id))
        service.record_usage(session, generation, total)
        service.record_generation_event(
            session,
            generation,
            MasterplanTokensProgress(
                stage="planning",
                tokens=total.output_tokens,
                input_tokens=total.input_tokens,
                milestones_done=done,
                milestones_total=milestones,
                tasks=tasks,
                cost_usd=total.cost_usd,
                message=message,
            ),
        )

    await asyncio.to_thread(_in_transaction, record)


@DBOS.step(name="generation.milestone", **RECONNECT)
async def milestone_step(
    generation_id: str,
    request_text: str,
    skeleton: dict[str, Any],
    milestone_number: int,
    earlier: list[dict[str, Any]],
    example_tasks: str | None,
    model: str | None,
    usage: dict[str, Any],
) -> dict[str, Any]:
    """One milestone's tasks, numbered after every earlier task, validated with them."""
    resolved = resolve_model("planner", current_runtime().settings, override=model)
    plan = PlanSkeleton.model_validate(skeleton)
    earlier_tasks = [TaskDocument.model_validate(t) for t in earlier]
    first = len(earlier_tasks) + 1
    so_far = CallUsage.model_validate(usage)
    total_milestones = sum(len(p.milestones) for p in plan.phases)
    prompt = milestone_prompt(
        request_text, plan, milestone_number, first, earlier_tasks, None if resolved.weak else example_tasks
    )

    def progress_event(tokens: int) -> MasterplanTokensProgress:
        return MasterplanTokensProgress(
            stage="planning",
            tokens=tokens,
            milestones_done=milestone_number - 1,
            milestones_total=total_milestones,
            tasks=len(earlier_tasks),
            message=f"Planning milestone {milestone_number} of {total_milestones}",
        )

    on_progress = _progress_writer(generation_id, so_far, progress_event)
    tasks, call = await plan_milestone(
        prompt,
        resolved,
        milestone_number=milestone_number,
        earlier=earlier_tasks,
        first_number=first,
        on_progress=on_progress,
    )
    await on_progress_final(
        generation_id,
        so_far + call,
        milestone_number,
        total_milestones,
        len(earlier_tasks) + len(tasks),
        f"Milestone {milestone_number} of {total_milestones} planned",
    )
    return {"tasks": [t.model_dump(mode="json") for t in tasks], "usage": call.model_dump()}


@DBOS.step(name="generation.finish", **RECONNECT)
def finish_step(
    generation_id: str, skeleton: dict[str, Any], tasks: list[list[dict[str, Any]]], usage: dict[str, Any]
) -> str:
    """Validate the whole plan and store it in one transaction with the assistant's answer."""
    settings = current_runtime().settings
    document = assemble_plan(
        PlanSkeleton.model_validate(skeleton),
        [[TaskDocument.model_validate(t) for t in group] for group in tasks],
    )

    def finish(session: Any) -> str:
        generation = service.load_generation(session, uuid.UUID(generation_id), for_update=True)
        service.set_stage(session, generation, "storing")
        plan = service.finish_generation(
            session,
            generation,
            document,
            CallUsage.model_validate(usage),
            settings,
            coder_model=configured_name("coder", settings),
        )
        return str(plan.id)

    result: str = _in_transaction(finish)
    return result


@DBOS.step(name="generation.fail", **RECONNECT)
def fail_step(generation_id: str, reason: str, usage: dict[str, Any]) -> None:
    """Store the failure reason; no plan rows were written."""

    def fail(session: Any) -> None:
        generation = service.load_generation(session, uuid.UUID(generation_id), for_update=True)
        service.fail_generation(session, generation, reason, CallUsage.model_validate(usage))

    _in_transaction(fail)


def failure_reason(exc: BaseException) -> str:
    """What the user reads: our own messages as they are, anything else with its type."""
    if isinstance(exc, GenerationFailed | ConfigurationError):
        return str(exc)
    if isinstance(exc, DomainError):
        return exc.message
    return f"internal error: {type(exc).__name__}: {exc}"


@DBOS.workflow(name=WORKFLOW_NAME)
async def generation_workflow(generation_id: str, model: str | None = None) -> str | None:
    """Discovery then incremental planning; returns the new plan's id, or None when generation failed."""
    with generation_scope(current_runtime(), generation_id):
        return await _generate(generation_id, model)


async def _generate(generation_id: str, model: str | None) -> str | None:
    usage = CallUsage()
    try:
        inputs = await asyncio.to_thread(begin_step, generation_id)
        if inputs["status"] in ("completed", "failed"):
            return None
        request_text = inputs["request_text"]
        discovered = await discover_step(generation_id, request_text, model)
        usage = usage + CallUsage.model_validate(discovered["usage"])
        await asyncio.to_thread(
            store_discovery_step, generation_id, discovered["output"], discovered["usage"]
        )
        few_shot = await asyncio.to_thread(examples_step, inputs["owner_id"], request_text)
        planned = await skeleton_step(
            generation_id,
            request_text,
            discovered["output"],
            few_shot["skeletons"],
            model,
            usage.model_dump(),
        )
        usage = usage + CallUsage.model_validate(planned["usage"])
        skeleton = planned["skeleton"]
        milestones = sum(len(p["milestones"]) for p in skeleton["phases"])
        tasks: list[list[dict[str, Any]]] = []
        earlier: list[dict[str, Any]] = []
        for number in range(1, milestones + 1):
            answer = await milestone_step(
                generation_id,
                request_text,
                skeleton,
                number,
                earlier,
                few_shot["tasks"],
                model,
                usage.model_dump(),
            )
            usage = usage + CallUsage.model_validate(answer["usage"])
            tasks.append(answer["tasks"])
            earlier = earlier + answer["tasks"]
        plan_id: str = await asyncio.to_thread(
            finish_step, generation_id, skeleton, tasks, usage.model_dump()
        )
        return plan_id
    except Exception as exc:
        reason = failure_reason(exc)
        log.warning("generation_failed", generation_id=generation_id, reason=reason)
        await asyncio.to_thread(fail_step, generation_id, reason, usage.model_dump())
        return None


def launch_generation(generation_id: uuid.UUID, model: str | None = None) -> None:
    """Start the generation's workflow (its id is the generation id, so starting twice runs it once)."""
    start_workflow(generation_workflow, str(generation_id), str(generation_id), model, queue=GENERATION_QUEUE)


def wait_generation(generation_id: uuid.UUID) -> str | None:
    """Block until the generation's workflow ends; the plan id or None."""
    handle: WorkflowHandle[str | None] = DBOS.retrieve_workflow(str(generation_id))
    result: str | None = handle.get_result(polling_interval_sec=0.05)
    return result
