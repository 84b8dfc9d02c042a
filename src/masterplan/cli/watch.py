"""`masterplan watch <id>`: print a plan's (or a conversation's) live event stream."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime
from typing import Annotated, Any

import typer

from masterplan.cli.common import console, err_console, parse_id
from masterplan.config import Settings
from masterplan.events.schemas import ENVELOPE_FIELDS, TERMINAL_PLAN_STATUSES
from masterplan.realtime.client import RealtimeClient, RealtimeError, ReceivedEvent


def _short(value: Any) -> str:
    text = str(value)
    return text[:8] if len(text) == 36 and text.count("-") == 4 else text


def _percent(value: Any) -> str:
    return f"{float(value) * 100:.0f}%" if isinstance(value, int | float) else "?"


def describe(event: ReceivedEvent) -> str:
    """One human line for an event."""
    p = event.payload
    match event.type:
        case "masterplan_status_changed":
            reason = f" ({p['reason']})" if p.get("reason") else ""
            return f"status {p.get('previous_status') or '?'} -> {p.get('status')}{reason}"
        case "masterplan_execution_start":
            return f"execution started: {p.get('total_tasks')} tasks in {p.get('workspace_path')}"
        case "wave_execution_start":
            return f"wave {p.get('wave_number')} started: {p.get('total_atoms')} tasks"
        case "wave_execution_complete":
            stats = ", ".join(f"{k} {v}" for k, v in (p.get("stats") or {}).items())
            return f"wave {p.get('wave_number')} finished" + (f": {stats}" if stats else "")
        case "task_execution_progress":
            return f"task #{p.get('task_number')} {p.get('status')}  {p.get('description') or ''}".rstrip()
        case "task_execution_complete":
            files = ", ".join(p.get("output_files") or [])
            done = f"({p.get('completed_tasks')}/{p.get('total_tasks')})"
            return f"task {_short(p.get('task_id'))} {p.get('status')} {done}" + (
                f"  {files}" if files else ""
            )
        case "gate_validation_result":
            verdict = "passed" if p.get("gate_passed") else "FAILED"
            return f"gate {verdict}: must {_percent(p.get('must_rate'))}, should {_percent(p.get('should_rate'))}"
        case "acceptance_test_result":
            return f"acceptance test {p.get('test_id')} {'passed' if p.get('passed') else 'FAILED'}"
        case "review_created":
            return f"review {_short(p.get('review_id'))} for task {_short(p.get('task_id'))} (confidence {p.get('confidence')})"
        case "cost_warning":
            return f"cost ${p.get('current_cost_usd')} over the soft limit ${p.get('soft_limit_usd')}"
        case "message_chunk":
            return repr(p.get("delta", ""))
    details = {k: v for k, v in p.items() if k not in ENVELOPE_FIELDS | {"stream", "conversation_id"}}
    return " ".join(f"{k}={_short(v)}" for k, v in details.items() if v not in (None, "", [], {}))[:200]


def _print(event: ReceivedEvent, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"type": event.type, **event.payload}), flush=True)
        return
    stamp = str(event.payload.get("timestamp", ""))
    try:
        clock = datetime.fromisoformat(stamp).astimezone().strftime("%H:%M:%S")
    except ValueError:
        clock = "--:--:--"
    console.print(
        f"#{event.seq:<5} {clock}  {event.type:<32} {describe(event)}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _finished(event: ReceivedEvent) -> bool:
    return event.type == "masterplan_status_changed" and event.payload.get("status") in TERMINAL_PLAN_STATUSES


async def _watch(
    url: str,
    token: str,
    kind: str,
    object_id: uuid.UUID,
    after_seq: int | None,
    as_json: bool,
    until_done: bool,
) -> None:
    async with RealtimeClient(url, token) as client:
        if kind == "masterplan":
            ack = await client.join_masterplan(object_id, after_seq)
        else:
            ack = await client.join_conversation(object_id, after_seq)
        if not as_json:
            err_console.print(f"watching {ack['stream']} at {url} (Ctrl-C to stop)", highlight=False)
        async for event in client.events():
            _print(event, as_json)
            if until_done and _finished(event):
                return


def watch(
    object_id: Annotated[str, typer.Argument(help="Plan id (or conversation id with --conversation).")],
    conversation: Annotated[bool, typer.Option("--conversation", help="Watch a conversation.")] = False,
    after_seq: Annotated[int, typer.Option(min=0, help="Replay stored events after this seq first.")] = 0,
    live: Annotated[bool, typer.Option("--live", help="Only new events, no replay.")] = False,
    until_done: Annotated[
        bool, typer.Option("--until-done", help="Exit when the plan completes, fails or is cancelled.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    url: Annotated[
        str | None, typer.Option(help="Server URL (default http://host:port from settings).")
    ] = None,
    token: Annotated[str | None, typer.Option(help="API token (default: the local token).")] = None,
) -> None:
    """Print the live event stream of a plan: stored events first (from --after-seq), then live ones."""
    from masterplan.cli.auth import remote_target

    url, token = remote_target(Settings(), url, token)
    start = None if live else after_seq
    kind = "conversation" if conversation else "masterplan"
    try:
        asyncio.run(_watch(url, token, kind, parse_id(object_id), start, as_json, until_done))
    except RealtimeError as exc:
        hint = " (is `masterplan serve` running there?)" if exc.code == "connection_failed" else ""
        err_console.print(f"[red]error ({exc.code}):[/red] {exc.message}{hint}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
