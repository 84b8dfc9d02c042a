"""First start: make sure an admin exists and hand out a one-time sign-in URL, as Jupyter does."""

from __future__ import annotations

from masterplan.auth.sessions import issue_sign_in_code
from masterplan.auth.tokens import ensure_local_user
from masterplan.config import Settings
from masterplan.runtime import Runtime


def base_url(settings: Settings, host: str | None = None, port: int | None = None) -> str:
    """Where users reach this server: MASTERPLAN_PUBLIC_URL, else http://host:port."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    shown = host or settings.host
    if shown in ("0.0.0.0", "::", ""):
        shown = "127.0.0.1"
    return f"http://{shown}:{port or settings.port}"


def sign_in_url(settings: Settings, code: str, *, host: str | None = None, port: int | None = None) -> str:
    return f"{base_url(settings, host, port)}/?signin={code}"


def bootstrap_sign_in(runtime: Runtime, *, host: str | None = None, port: int | None = None) -> str | None:
    """Create the local admin account when missing and return a one-time sign-in URL for it
    (None when that account has been disabled: then people sign in with their passwords)."""
    with runtime.transaction() as session:
        admin = ensure_local_user(session, runtime.settings)
        if not admin.is_active:
            return None
        code, _ = issue_sign_in_code(session, admin, runtime.settings)
    return sign_in_url(runtime.settings, code, host=host, port=port)
