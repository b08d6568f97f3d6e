"""``publicist token``: create prints the token once; list never shows it; revoke stops it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from publicist.cli.main import app
from publicist.core.clock import system_clock
from publicist.core.database import dispose_engines, session_scope
from publicist.web.models import ApiToken
from publicist.web.tokens import authenticate

runner = CliRunner()


def test_a_token_is_printed_once_listed_without_it_and_revoked(embedded_env: Path) -> None:
    try:
        created = runner.invoke(app, ["token", "create", "--role", "viewer", "--name", "wall"])
        assert created.exit_code == 0, created.output
        secret = created.stdout.strip()
        assert secret.startswith("pub_")
        assert "\n" not in secret  # stdout is the token alone, for TOKEN=$(publicist ...)
        assert "not shown again" in created.stderr

        listed = runner.invoke(app, ["token", "list"])
        assert listed.exit_code == 0, listed.output
        assert "wall" in listed.stdout
        assert "viewer" in listed.stdout
        assert secret not in listed.output

        with session_scope() as session:
            token = session.scalars(select(ApiToken)).one()
            assert token.token_hash != secret
            assert authenticate(session, secret=secret, now=system_clock.now()) is not None

        revoked = runner.invoke(app, ["token", "revoke", str(token.id)])
        assert revoked.exit_code == 0, revoked.output
        with session_scope() as session:
            assert authenticate(session, secret=secret, now=system_clock.now()) is None
    finally:
        dispose_engines()


def test_a_bad_role_or_id_is_refused(embedded_env: Path) -> None:
    try:
        bad_role = runner.invoke(app, ["token", "create", "--role", "owner"])
        assert bad_role.exit_code == 2
        assert "owner" in bad_role.output
        huge = runner.invoke(app, ["token", "revoke", "99999999999999999999"])
        # The id parser's one-line error, exit code 2 (also without main()).
        assert huge.exit_code == 2
        assert "token" in huge.output
        assert "is not an id" in huge.output
    finally:
        dispose_engines()


def test_the_api_command_is_registered() -> None:
    shown = runner.invoke(app, ["api", "--help"])
    assert shown.exit_code == 0
    assert "--port" in shown.output
    assert "/docs" in shown.output
