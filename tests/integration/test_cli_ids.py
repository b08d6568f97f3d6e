"""CLI id arguments: ASCII digits in the database's range, else one line and exit 2.

click's ``int`` reads "١" (Arabic-Indic one) as 1, so ``post cancel ١`` cancelled post 1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from publicist.cli.main import main


def _run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    monkeypatch.setattr("sys.argv", ["publicist", *args])
    capsys.readouterr()
    with pytest.raises(SystemExit) as caught:
        main()
    code = caught.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().err


@pytest.fixture
def draft(
    embedded_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (
        ("account", "add", "mock", "@IPRinCN", "--token", "secret-token-123"),
        ("campaign", "create", "IP Week", "--timezone", "Asia/Shanghai"),
        ("post", "add", "-c", "IP Week", "-t", "Opening", "--to", "mock:@IPRinCN"),
        ("token", "create", "--role", "viewer", "--name", "wall"),
    ):
        code, err = _run(monkeypatch, capsys, *args)
        assert code == 0, err


@pytest.mark.parametrize(
    "command", [("post", "cancel"), ("post", "approve"), ("post", "retry"), ("token", "revoke")]
)
@pytest.mark.parametrize("typed", ["١", "²", "1_0", "0", "2147483648", "1" + "0" * 30])
def test_id_arguments_that_are_not_ascii_ids_exit_2_with_one_line(
    draft: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: tuple[str, str],
    typed: str,
) -> None:
    code, err = _run(monkeypatch, capsys, *command, typed)
    assert code == 2, err
    assert err.startswith("error:")
    assert "Traceback" not in err
    # Nothing happened to post 1 or token 1.
    code, err = _run(monkeypatch, capsys, "post", "cancel", "1")
    assert code == 0, err
    code, err = _run(monkeypatch, capsys, "token", "revoke", "1")
    assert code == 0, err
