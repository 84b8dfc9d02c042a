"""`masterplan users|tokens` on the local database, and `masterplan login|logout` against a real server."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import httpx
from typer.testing import CliRunner

from masterplan.cli import app
from masterplan.cli.auth import load_credentials, remote_target
from masterplan.cli.server import background_server
from masterplan.config import Settings
from tests.auth.helpers import PASSWORD

runner = CliRunner()


def env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {
        "MASTERPLAN_DATA_DIR": str(settings.data_dir),
        "MASTERPLAN_DATABASE_URL": settings.database_url,
        "MASTERPLAN_LOCAL_TOKEN": settings.local_token.get_secret_value(),
        "MASTERPLAN_CONFIG_DIR": str(tmp_path / "config"),
        "COLUMNS": "200",
    }


def test_users_create_list_disable(settings: Settings, tmp_path: Path) -> None:
    created = runner.invoke(
        app,
        ["users", "create", "cli@example.com", "--name", "Cli", "--password", PASSWORD],
        env=env(settings, tmp_path),
    )
    assert created.exit_code == 0, created.output
    invited = runner.invoke(app, ["users", "create", "new@example.com"], env=env(settings, tmp_path))
    assert invited.exit_code == 0, invited.output
    assert re.search(r"/\?signin=mpc_\S+", invited.output)
    listed = runner.invoke(app, ["users", "list"], env=env(settings, tmp_path))
    assert "cli@example.com" in listed.output and "new@example.com" in listed.output
    disabled = runner.invoke(app, ["users", "disable", "cli@example.com"], env=env(settings, tmp_path))
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    duplicate = runner.invoke(app, ["users", "create", "cli@example.com"], env=env(settings, tmp_path))
    assert duplicate.exit_code == 1 and "user_exists" in duplicate.output
    unknown = runner.invoke(app, ["users", "disable", "ghost@example.com"], env=env(settings, tmp_path))
    assert unknown.exit_code == 1 and "no user with email" in unknown.output


def test_tokens_create_list_revoke(settings: Settings, tmp_path: Path) -> None:
    created = runner.invoke(
        app, ["tokens", "create", "ci", "--expires-days", "7"], env=env(settings, tmp_path)
    )
    assert created.exit_code == 0, created.output
    secret = re.search(r"mp_\S+", created.stdout)
    token_id = re.search(r"token ([0-9a-f-]{36})", created.output)
    assert secret and token_id
    listed = runner.invoke(app, ["tokens", "list"], env=env(settings, tmp_path))
    assert "ci" in listed.output and secret.group(0) not in listed.output
    revoked = runner.invoke(app, ["tokens", "revoke", token_id.group(1)], env=env(settings, tmp_path))
    assert revoked.exit_code == 0 and "revoked ci" in revoked.output
    assert token_id.group(1) not in runner.invoke(app, ["tokens", "list"], env=env(settings, tmp_path)).output


def test_login_with_password_stores_a_private_token_and_logout_revokes_it(
    settings: Settings, tmp_path: Path
) -> None:
    runner.invoke(
        app, ["users", "create", "remote@example.com", "--password", PASSWORD], env=env(settings, tmp_path)
    )
    with background_server(settings) as base:
        wrong = runner.invoke(
            app,
            ["login", "--server", base, "--email", "remote@example.com", "--password", "nope nope nope"],
            env=env(settings, tmp_path),
        )
        assert wrong.exit_code == 1 and "401" in wrong.output
        result = runner.invoke(
            app,
            ["login", "--server", base, "--email", "remote@example.com", "--password", PASSWORD],
            env=env(settings, tmp_path),
        )
        assert result.exit_code == 0, result.output
        path = tmp_path / "config" / "credentials.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        stored = json.loads(path.read_text())
        assert stored["server"] == base and stored["email"] == "remote@example.com"
        me = httpx.get(f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {stored['token']}"})
        assert me.status_code == 200 and me.json()["email"] == "remote@example.com"

        config = Settings(_env_file=None, config_dir=tmp_path / "config")  # type: ignore[call-arg]
        assert load_credentials(config) is not None
        assert remote_target(config) == (base, stored["token"])
        assert remote_target(config, token="mp_explicit") == (base, "mp_explicit")

        out = runner.invoke(app, ["logout"], env=env(settings, tmp_path))
        assert out.exit_code == 0 and not path.exists()
        gone = httpx.get(f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {stored['token']}"})
        assert gone.status_code == 401


def test_login_with_a_token_checks_it_first(settings: Settings, tmp_path: Path) -> None:
    with background_server(settings) as base:
        bad = runner.invoke(
            app, ["login", "--server", base, "--token", "mp_wrong"], env=env(settings, tmp_path)
        )
        assert bad.exit_code == 1 and not (tmp_path / "config" / "credentials.json").exists()
        token = settings.local_token.get_secret_value()
        good = runner.invoke(app, ["login", "--server", base, "--token", token], env=env(settings, tmp_path))
        assert good.exit_code == 0 and "local@masterplan" in good.output
    missing = runner.invoke(app, ["login"], env=env(settings, tmp_path))
    assert missing.exit_code == 1 and "--token" in missing.output
