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
