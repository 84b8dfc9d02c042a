"""Shared CLI plumbing: settings, the local runtime, readable errors."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from masterplan.auth.tokens import ensure_local_user
from masterplan.config import Settings
from masterplan.errors import ConfigurationError, DomainError
from masterplan.models import User
from masterplan.runtime import Runtime, build_runtime

console = Console()
err_console = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")


def readable_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn domain and configuration errors into a red message and exit code 1, not a traceback."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            err_console.print(f"[red]error ({exc.code}):[/red] {exc.message}")
            if isinstance(exc.details, list):
                for item in exc.details:
                    err_console.print(f"  - {item}")
            raise typer.Exit(1) from None
        except ConfigurationError as exc:
            err_console.print(f"[red]configuration error:[/red] {exc}")
            raise typer.Exit(1) from None

    return wrapper


@contextmanager
def local_runtime(settings: Settings | None = None) -> Iterator[Runtime]:
    runtime = build_runtime(settings or Settings())
    try:
        yield runtime
    finally:
        runtime.close()


@contextmanager
def local_session(runtime: Runtime) -> Iterator[tuple[Session, User]]:
    """A committed-on-success session and the local user acting in it."""
    with runtime.transaction() as session:
        yield session, ensure_local_user(session, runtime.settings)


def parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a plan id (a UUID such as 3f2c...-...)") from None
