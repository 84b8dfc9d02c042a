"""Model configuration problems as API errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from masterplan.errors import ConfigurationError, DomainError


class InvalidModel(DomainError):
    """A request named a model that cannot be used; the message says which forms are accepted."""

    status_code = 422
    code = "invalid_model"


@contextmanager
def model_errors() -> Iterator[None]:
    """Turn a ConfigurationError raised while choosing a model into a 422 the user can act on."""
    try:
        yield
    except ConfigurationError as exc:
        raise InvalidModel(str(exc)) from None


def model_failure_reason(what: str, exc: Exception, problems: list[str], attempts: int) -> str:
    """Why a model call failed, for people: provider failures, or the problems its last answer still had."""
    from pydantic_ai.exceptions import ModelAPIError

    if isinstance(exc, ModelAPIError):
        return f"{what}: the model provider failed after retries: {exc}"
    if problems:
        return f"{what}: the model's answer was still invalid after {attempts} attempts: " + "; ".join(
            problems[:5]
        )
    return f"{what}: {exc}"
