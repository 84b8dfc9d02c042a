"""create_app(settings): FastAPI wired in the lifespan; nothing is built at import time."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sqlalchemy import text

from masterplan import __version__
from masterplan.acceptance.endpoints import router as acceptance_router
from masterplan.audit.endpoints import router as audit_router
from masterplan.auth.dependencies import AdminUser
from masterplan.auth.endpoints import router as auth_router
from masterplan.auth.tokens import ensure_admin_token, ensure_local_user
from masterplan.auth.users_endpoints import router as users_router
from masterplan.config import Settings
from masterplan.conversations.endpoints import router as conversations_router
from masterplan.discovery.endpoints import router as discovery_router
from masterplan.durable import connect_client, disconnect_client, launch_durable, shutdown_durable
from masterplan.durable import readiness as durable_readiness
from masterplan.errors import DomainError, ErrorBody, ErrorResponse, NotFound, TooManyRequests
from masterplan.execution.endpoints import router as execution_router
from masterplan.generation.endpoints import router as generation_router
from masterplan.observability.summary import router as metrics_router
from masterplan.plans.editing_endpoints import router as plan_editing_router
from masterplan.plans.endpoints import router as plans_router
from masterplan.plans.review_endpoints import router as plan_review_router
from masterplan.realtime.endpoints import router as events_router
from masterplan.review.endpoints import router as reviews_router
from masterplan.runtime import Runtime, build_runtime
from masterplan.security import install_security

WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"


class Health(BaseModel):
    status: str
    version: str


class Readiness(BaseModel):
    status: str
    database: str
    durable_execution: str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in (
        (401, "Missing or invalid token"),
        (404, "Unknown id, or one the user may not see"),
        (409, "Wrong status for this action"),
        (413, "Request body too large"),
    )
}


def domain_error_response(exc: DomainError) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(code=exc.code, message=exc.message, details=exc.details))
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse(body.model_dump(mode="json"), status_code=exc.status_code, headers=headers)


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)

    @router.get("/health", response_model=Health, tags=["system"])
    def health() -> Health:
        """Liveness: the process answers."""
        return Health(status="ok", version=__version__)

    @router.get("/ready", response_model=Readiness, tags=["system"], responses={503: {"model": Readiness}})
    def ready(request: Request) -> Response:
        """Readiness: the database answers, and workflows run here or the workers' queues are reachable."""
        runtime: Runtime = request.app.state.runtime
        database = "ok"
        try:
            with runtime.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means not ready
            database = f"unreachable: {type(exc).__name__}"
        durable = durable_readiness() if getattr(request.app.state, "durable", False) else "not running"
        body = Readiness(
            status="ok" if database == durable == "ok" else "unavailable",
            database=database,
            durable_execution=durable,
        )
        return JSONResponse(body.model_dump(), status_code=200 if body.status == "ok" else 503)

    router.include_router(auth_router)
    router.include_router(users_router)
    router.include_router(audit_router)
    router.include_router(generation_router)
    router.include_router(conversations_router)
    router.include_router(discovery_router)
    router.include_router(metrics_router)
    router.include_router(plan_editing_router)
    router.include_router(plan_review_router)
    router.include_router(plans_router)
    router.include_router(execution_router)
    router.include_router(events_router)
    router.include_router(acceptance_router)
    router.include_router(reviews_router)
    return router


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the ASGI app; the runtime (database, events) is created in the lifespan unless given."""
    settings = settings or (runtime.settings if runtime else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        rt = runtime or build_runtime(settings)
        with rt.transaction() as session:
            ensure_local_user(session, settings)
            ensure_admin_token(session, settings)
        app.state.runtime = rt
        if settings.embedded_worker:
            launch_durable(rt)
        else:  # API-only: executions and generations go to the queues `masterplan worker` reads
            connect_client(rt)
        app.state.durable = True
        try:
            yield
        finally:
            shutdown_durable()
            disconnect_client()
            app.state.durable = False
            if owned:
                rt.close()

    app = FastAPI(
        title="masterplan",
        version=__version__,
        description="Plans approved by humans, built by LLM agents in parallel waves.",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )

    @app.exception_handler(DomainError)
    async def handle_domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return domain_error_response(exc)

    @app.middleware("http")
    async def time_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        runtime: Runtime | None = getattr(request.app.state, "runtime", None)
        if runtime is not None and route is not None:
            path = getattr(route, "path", "other")
            runtime.metrics.http_seconds.labels(request.method, path, str(response.status_code)).observe(
                time.perf_counter() - start
            )
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request, _admin: AdminUser) -> Response:
        runtime: Runtime = request.app.state.runtime
        return Response(runtime.metrics.render(), media_type="text/plain; version=0.0.4")

    install_security(app, settings)
    app.include_router(api_router())
    mount_web(app)
    return app


def mount_web(app: FastAPI) -> None:
    """Serve the built UI at / with a single-page-app fallback, when it has been built."""
    if not (WEB_DIST / "index.html").exists():
        return
    app.mount("/assets", StaticFiles(directory=WEB_DIST / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    def spa(path: str) -> FileResponse:
        if path.startswith("api/"):
            raise NotFound(f"no API route /{path}", code="route_not_found")
        candidate = (WEB_DIST / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(WEB_DIST):
            return FileResponse(candidate)
        return FileResponse(WEB_DIST / "index.html")
