"""Entry point: `masterplan serve`, `masterplan db`, `masterplan plans`, `masterplan openapi`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import SecretStr

from masterplan.cli import plans, reviews
from masterplan.cli.auth import login, logout, tokens_app, users_app
from masterplan.cli.common import console, readable_errors
from masterplan.cli.demo import demo
from masterplan.cli.evaluate import evaluate
from masterplan.cli.execute import register as register_execution
from masterplan.cli.generate import models_table, plan
from masterplan.cli.watch import watch
from masterplan.cli.worker import worker
from masterplan.config import Settings

app = typer.Typer(
    help="masterplan: describe a project, approve the plan, watch agents build it.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(plans.app, name="plans")
app.add_typer(reviews.app, name="reviews")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.command()(demo)
app.command("eval")(evaluate)
app.command()(login)
app.command()(logout)
app.command()(plan)
app.command()(watch)
app.command()(worker)
register_execution(app)


@app.command()
@readable_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    worker: Annotated[
        bool, typer.Option(help="Run executions and generations here; --no-worker: `masterplan worker` does.")
    ] = True,
) -> None:
    """Run the API (and the UI when built); with --no-worker, only the API (scale-out, see docs/scale.md)."""
    import uvicorn

    from masterplan.auth.bootstrap import base_url, bootstrap_sign_in
    from masterplan.logging import configure_logging
    from masterplan.observability.tracing import configure_tracing
    from masterplan.realtime.server import create_asgi_app
    from masterplan.runtime import build_runtime

    settings = Settings() if worker else Settings(embedded_worker=False)
    host = host or settings.host
    port = port or settings.port
    configure_logging()
    configure_tracing(settings, role="serve" if settings.embedded_worker else "api")
    runtime = build_runtime(settings)
    try:
        link = bootstrap_sign_in(runtime, host=host, port=port)
    finally:
        runtime.close()
    base = base_url(settings, host, port)
    console.print(f"masterplan serving on {base}  (API docs: {base}/api/docs)", soft_wrap=True)
    if link:
        minutes = settings.signin_code_minutes
        console.print(
            f"sign in with this one-time link (works once, for {minutes} min):\n  {link}", soft_wrap=True
        )
    console.print(models_table(settings))
    uvicorn.run(
        create_asgi_app(settings),
        host=host,
        port=port,
        timeout_graceful_shutdown=2,
        log_level="warning",
        log_config=None,
    )


@db_app.command("upgrade")
@readable_errors
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the database up to a revision (default: the newest)."""
    from masterplan.db import make_engine
    from masterplan.runtime import upgrade_database

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    upgrade_database(engine, revision)
    console.print(f"database at {revision}: {engine.url.render_as_string(hide_password=True)}")


@db_app.command("downgrade")
@readable_errors
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. base.")]) -> None:
    """Migrate the database down to a revision."""
    from masterplan.db import make_engine
    from masterplan.runtime import downgrade_database

    engine = make_engine(Settings().resolved_database_url)
    downgrade_database(engine, revision)
    console.print(f"database at {revision}")


@app.command("config")
def show_config(
    markdown: Annotated[bool, typer.Option(help="Print a Markdown table (for the README).")] = False,
) -> None:
    """Print every MASTERPLAN_ variable with its current value and meaning (secrets hidden)."""
    from rich.table import Table

    settings = Settings()
    rows = []
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            shown = "(secret, set)" if value.get_secret_value() else ""
        else:
            shown = "" if value is None else str(value)
        rows.append((f"MASTERPLAN_{name.upper()}", shown, field.description or ""))
    if markdown:
        print("| variable | default | meaning |\n|---|---|---|")
        for var, value, text in rows:
            print(f"| `{var}` | `{value}` | {text} |")
        return
    table = Table("variable", "value", "meaning")
    for row in rows:
        table.add_row(*row)
    console.print(table)


@app.command()
def openapi() -> None:
    """Print the OpenAPI schema (JSON)."""
    from masterplan.app import create_app

    print(json.dumps(create_app(Settings()).openapi(), indent=2))


def main() -> None:
    app()
