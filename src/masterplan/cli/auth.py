"""`masterplan login|logout` (remote servers), `masterplan users ...` and `masterplan tokens ...`.

`users` and `tokens` act on the local database as the local admin, like the other local commands.
`login` stores a server URL and an API token (file mode 0600) for commands that talk to a server.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from masterplan.auth import api_tokens, sessions, users
from masterplan.auth.bootstrap import base_url, sign_in_url
from masterplan.cli.common import (
    console,
    err_console,
    local_runtime,
    local_session,
    parse_id,
    readable_errors,
)
from masterplan.config import Settings
from masterplan.models import User

users_app = typer.Typer(
    help="Accounts: create, list, disable (local database, as the local admin).", no_args_is_help=True
)
tokens_app = typer.Typer(help="Personal API tokens for scripts and remote CLIs.", no_args_is_help=True)
CREDENTIALS_FILE = "credentials.json"


@dataclass
class Credentials:
    server: str
    token: str
    email: str = ""
    token_id: str = ""


def credentials_path(settings: Settings) -> Path:
    return settings.config_dir / CREDENTIALS_FILE


def load_credentials(settings: Settings) -> Credentials | None:
    """What `masterplan login` stored, or None."""
    path = credentials_path(settings)
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return Credentials(**{k: str(v) for k, v in data.items() if k in Credentials.__dataclass_fields__})
    except (OSError, ValueError, TypeError):
        return None


def save_credentials(settings: Settings, credentials: Credentials) -> Path:
    """Write the credentials readable by the owner only (0600, directory 0700)."""
    path = credentials_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(credentials), handle, indent=2)
    os.replace(temporary, path)
    os.chmod(path, 0o600)
    return path


def remote_target(settings: Settings, url: str | None = None, token: str | None = None) -> tuple[str, str]:
    """The server URL and token a remote command should use: explicit options first, then what
    `masterplan login` stored, then this machine's server with the local token."""
    stored = load_credentials(settings)
    url = (url or (stored.server if stored else "") or base_url(settings)).rstrip("/")
    if token is None and stored and stored.server == url:
        token = stored.token
    if token is None:
        from masterplan.auth.tokens import local_token

        token = local_token(settings)
    return url, token


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(1)


def _call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    try:
        response = client.request(method, f"/api/v1{path}", **kwargs)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {client.base_url}: {exc}") from None
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise _fail(f"{method} {path} answered {response.status_code}: {message}")
    return response


def login(
    server: Annotated[str | None, typer.Option(help="Server URL (default: this machine's).")] = None,
    token: Annotated[str | None, typer.Option(help="An API token to store (instead of a password).")] = None,
    email: Annotated[str | None, typer.Option(help="Sign in with this account's password.")] = None,
    password: Annotated[str | None, typer.Option(help="The password (asked for when omitted).")] = None,
) -> None:
    """Store a server URL and an API token for commands that talk to a server (e.g. `masterplan watch`).

    With --email, signs in with the password and creates a personal API token named after this machine.
    """
    settings = Settings()
    url = (server or base_url(settings)).rstrip("/")
    if not token and not email:
        raise _fail("give --token (an API token) or --email (to sign in with a password)")
    with httpx.Client(base_url=url, timeout=30) as client:
        token_id = ""
        if email:
            secret = password if password is not None else typer.prompt("Password", hide_input=True)
            grant = _call(client, "POST", "/auth/login", json={"email": email, "password": secret}).json()
            access = {"Authorization": f"Bearer {grant['access_token']}"}
            name = f"masterplan CLI on {socket.gethostname()}"[:200]
            created = _call(client, "POST", "/auth/tokens", json={"name": name}, headers=access).json()
            token, token_id = created["token"], created["id"]
            _call(client, "POST", "/auth/logout", headers=access)
        assert token is not None
        me = _call(client, "GET", "/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    path = save_credentials(
        settings, Credentials(server=url, token=token, email=me["email"], token_id=token_id)
    )
    console.print(f"signed in to {url} as {me['email']} ({me['role']}); credentials in {path}")


def logout() -> None:
    """Forget the stored credentials (revoking the token `masterplan login --email` created)."""
    settings = Settings()
    stored = load_credentials(settings)
    if stored is None:
        console.print("not signed in")
        return
    if stored.token_id:
        try:
            httpx.delete(
                f"{stored.server}/api/v1/auth/tokens/{stored.token_id}",
                headers={"Authorization": f"Bearer {stored.token}"},
                timeout=10,
            )
        except httpx.HTTPError:
            err_console.print("[yellow]could not reach the server to revoke the token[/yellow]")
    credentials_path(settings).unlink(missing_ok=True)
    console.print(f"signed out of {stored.server}")


def _users_table(rows: list[User]) -> Table:
    table = Table("id", "email", "name", "role", "active", "password")
    for user in rows:
        table.add_row(
            str(user.id),
            user.email,
            user.display_name,
            user.role,
            "yes" if user.is_active else "no",
            "set" if user.password_hash else "-",
        )
    return table


@users_app.command("create")
@readable_errors
def create_user(
    email: Annotated[str, typer.Argument(help="The new account's email.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    role: Annotated[str, typer.Option(help="admin or member.")] = "member",
    password: Annotated[
        str | None, typer.Option(help="Initial password; omit to print a one-time sign-in link.")
    ] = None,
) -> None:
    """Create an account; without --password, prints a one-time sign-in link to hand over."""
    if role not in users.ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(users.ROLES)}, not {role!r}")
    with local_runtime() as runtime, local_session(runtime) as (session, admin):
        user = users.create_user(
            session,
            admin,
            email=email,
            display_name=name,
            password=password,
            role="admin" if role == "admin" else "member",
        )
        console.print(f"created {user.email} ({user.role}) id {user.id}")
        if password is None:
            code, expires = sessions.issue_sign_in_code(session, user, runtime.settings)
            console.print(
                f"one-time sign-in link (until {expires:%Y-%m-%d %H:%M} UTC): {sign_in_url(runtime.settings, code)}"
            )


@users_app.command("list")
@readable_errors
def list_users() -> None:
    """Every account."""
    with local_runtime() as runtime, local_session(runtime) as (session, _admin):
        rows, total = users.list_users(session, limit=10_000)
        console.print(_users_table(list(rows)))
        console.print(f"[dim]{total} users[/dim]")


def _set_active(ref: str, active: bool) -> None:
    with local_runtime() as runtime, local_session(runtime) as (session, admin):
        user = users.update_user(session, admin, users.find_user(session, ref), is_active=active)
        console.print(f"{user.email} is {'enabled' if active else 'disabled'}")


@users_app.command("disable")
@readable_errors
def disable_user(user: Annotated[str, typer.Argument(help="Email or id.")]) -> None:
    """Disable an account: its sessions and tokens stop working at once."""
    _set_active(user, False)


@users_app.command("enable")
@readable_errors
def enable_user(user: Annotated[str, typer.Argument(help="Email or id.")]) -> None:
    """Enable a disabled account again."""
    _set_active(user, True)


@tokens_app.command("create")
@readable_errors
def create_token(
    name: Annotated[str, typer.Argument(help="What the token is for.")],
    user: Annotated[
        str | None, typer.Option(help="For this account (email or id); default the local admin.")
    ] = None,
    expires_days: Annotated[int | None, typer.Option(min=1, max=3650, help="Lifetime in days.")] = None,
) -> None:
    """Create an API token; its secret is printed once."""
    with local_runtime() as runtime, local_session(runtime) as (session, admin):
        owner = users.find_user(session, user) if user else admin
        token, secret = api_tokens.create_token(
            session, owner, name, expires_in_days=expires_days, actor=admin
        )
        err_console.print(f"token {token.id} for {owner.email}; store it now, it is not shown again:")
        print(secret)


@tokens_app.command("list")
@readable_errors
def list_tokens(
    user: Annotated[
        str | None, typer.Option(help="Whose tokens (email or id); default the local admin.")
    ] = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked tokens.")] = False,
) -> None:
    """API tokens (never their secrets)."""
    with local_runtime() as runtime, local_session(runtime) as (session, admin):
        owner = users.find_user(session, user) if user else admin
        table = Table("id", "name", "created", "expires", "revoked")
        for token in api_tokens.list_tokens(session, owner, include_revoked=revoked):
            table.add_row(
                str(token.id),
                token.name,
                f"{token.created_at:%Y-%m-%d %H:%M}",
                f"{token.expires_at:%Y-%m-%d}" if token.expires_at else "never",
                f"{token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "",
            )
        console.print(table)


@tokens_app.command("revoke")
@readable_errors
def revoke_token(token_id: Annotated[str, typer.Argument(help="Token id (from `tokens list`).")]) -> None:
    """Revoke a token; it stops working at once."""
    with local_runtime() as runtime, local_session(runtime) as (session, admin):
        token = api_tokens.revoke_token(session, admin, parse_id(token_id))
        console.print(f"revoked {token.name} ({token.id})")
