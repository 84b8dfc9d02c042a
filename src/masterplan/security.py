"""HTTP hardening: a request body limit that also counts chunked bodies, security headers on every
UI and API response, and the CORS allowlist (MASTERPLAN_CORS_ORIGINS)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from masterplan.config import Settings

DOCS_PATHS = ("/api/docs", "/api/docs/oauth2-redirect")
# The built React app: its own scripts and styles only; inline styles for components that set them;
# sockets and fetches to this origin; never framed.
UI_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
# FastAPI's Swagger page loads its script and style from a CDN and starts with an inline script.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; "
    "style-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'"
)
COMMON_HEADERS = {
    "x-content-type-options": "nosniff",
    # No referrer at all: URLs may carry a one-time sign-in code.
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def policy_for(path: str) -> str:
    if path in DOCS_PATHS:
        return DOCS_POLICY
    if path.startswith("/api/") or path == "/metrics":
        return API_POLICY
    return UI_POLICY


def add_security_headers(headers: MutableHeaders, scope: Scope) -> None:
    """Add the headers the response does not set itself."""
    path: str = scope.get("path", "")
    wanted = {**COMMON_HEADERS, "content-security-policy": policy_for(path)}
    if path.startswith("/api/"):
        wanted["cache-control"] = "no-store"
    if scope.get("scheme") == "https":
        wanted["strict-transport-security"] = "max-age=31536000; includeSubDomains"
    for name, value in wanted.items():
        if name not in headers:
            headers[name] = value


class SecurityMiddleware:
    """Refuses bodies over `max_body_bytes` with 413 (declared or counted while streaming) and adds the
    security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _too_large(self) -> tuple[dict[str, Any], bytes]:
        body = {
            "error": {
                "code": "payload_too_large",
                "message": f"the request body is over the limit of {self.max_body_bytes} bytes",
                "details": {"max_bytes": self.max_body_bytes},
            }
        }
        return body, json.dumps(body).encode()

    async def _send_too_large(self, scope: Scope, send: Send) -> None:
        _, payload = self._too_large()
        headers = MutableHeaders(
            raw=[(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        )
        headers["connection"] = "close"
        add_security_headers(headers, scope)
        await send({"type": "http.response.start", "status": 413, "headers": headers.raw})
        await send({"type": "http.response.body", "body": payload})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._send_too_large(scope, send)
            return

        received = 0
        too_large = False
        response_started = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # The app sees a client that went away; its answer is swapped for the 413 below.
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started, replaced
            if replaced:
                return
            if message["type"] == "http.response.start":
                if too_large:
                    replaced = response_started = True
                    await self._send_too_large(scope, send)
                    return
                response_started = True
                add_security_headers(MutableHeaders(scope=message), scope)
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not too_large:
                raise
        if too_large and not response_started:
            await self._send_too_large(scope, send)


def install_security(app: FastAPI, settings: Settings) -> None:
    """Add the body limit, the security headers and, when origins are configured, CORS."""
    app.add_middleware(SecurityMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        # Added last, so outermost: preflight answers carry the CORS headers too.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=True,
            max_age=600,
        )
