"""Domain errors that carry their HTTP status, code and a message saying what would be right."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """Every error answer of the API: what was wrong and, in the message, what would be right."""

    error: ErrorBody


class DomainError(Exception):
    """Base of every error a user can cause; the API turns it into a JSON error body."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidStatusTransition(Conflict):
    code = "invalid_status_transition"


class PlanValidationError(DomainError):
    """A plan breaks a rule; `problems` lists every violation found."""

    status_code = 422
    code = "plan_invalid"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems), details=problems)
        self.problems = problems


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


class ConfigurationError(Exception):
    """The installation is misconfigured (no model, bad URL); the message says how to fix it."""


class Forbidden(DomainError):
    """Signed in, but the role does not allow this (e.g. a member calling an admin endpoint)."""

    status_code = 403
    code = "forbidden"


class TooManyRequests(DomainError):
    """A rate limit or a sign-in lockout; `retry_after` says when to try again, in seconds."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code, details={"retry_after": retry_after})
        self.retry_after = retry_after
