"""The CLI as staff use it: good input is stored, bad input gets one line, exit 2, no writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from rich.console import Console

from publicist.cli.main import main
from publicist.core.settings import reset_settings

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(
    embedded_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.argv", ["publicist", *args])
        capsys.readouterr()
        with pytest.raises(SystemExit) as caught:
            main()
        captured = capsys.readouterr()
        code = caught.value.code
        return (code if isinstance(code, int) else 0), captured.out, captured.err

    return invoke


def _rows(workdir: Path, table: str) -> int:
    engine = sa.create_engine(f"sqlite:///{workdir / 'publicist.db'}")
    try:
        with engine.connect() as connection:
            query = sa.select(sa.func.count()).select_from(sa.table(table))
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture
def world(run: Run) -> Run:
    assert run("account", "add", "mock", "@IPRinCN", "--token", "secret-token-123")[0] == 0
    code, _, err = run(
        "campaign", "create", "IP Creates a Better Life", "--timezone", "Asia/Shanghai"
    )
    assert code == 0, err
    return run


def test_a_post_is_added_and_listed_without_showing_the_token(
    world: Run, embedded_env: Path
) -> None:
    code, out, err = world(
        "post", "add", "-c", "IP Creates a Better Life", "-t", "Opening today",
        "--to", "mock:@IPRinCN", "--at", "2099-04-20 09:30", "--approve",
    )  # fmt: skip
    assert code == 0, err
    assert _rows(embedded_env, "posts") == 1
    assert _rows(embedded_env, "deliveries") == 1
    code, out, _ = world("account", "list")
    assert code == 0
    assert "@IPRinCN" in out
    assert "secret-token-123" not in out


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["-t", "", "--at", "2099-04-20 09:30"], "text"),
        (["-t", "Hi", "--at", "2001-04-20 09:30"], "at"),
        (["-t", "Hi", "--at", "20 April"], "at"),
        (["-t", "Hi", "--at", "2099-04-20 09:30", "--campaign", "Nope"], "campaign"),
        (["-t", "Hi", "--at", "2099-04-20 09:30", "--to", "mock:@nobody"], "account"),
    ],
)
def test_bad_post_input_exits_2_with_one_line_naming_the_field(
    world: Run, embedded_env: Path, args: list[str], field: str
) -> None:
    base = {"--campaign": "IP Creates a Better Life", "--to": "mock:@IPRinCN"}
    for option in list(base):
        if option in args:
            del base[option]
    extra = [item for pair in base.items() for item in pair]
    code, _, err = world("post", "add", *extra, *args)
    assert code == 2
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert field in lines[0]
    assert _rows(embedded_env, "posts") == 0
    assert _rows(embedded_env, "deliveries") == 0


def test_an_invalid_time_zone_is_refused(world: Run, embedded_env: Path) -> None:
    code, _, err = world("campaign", "create", "Elsewhere", "--timezone", "Mars/Olympus")
    assert code == 2
    assert "Mars/Olympus" in err
    assert _rows(embedded_env, "campaigns") == 1


def test_a_bad_csv_reports_every_bad_line_and_writes_nothing(
    world: Run, embedded_env: Path
) -> None:
    csv_file = embedded_env / "week.csv"
    csv_file.write_text(
        "campaign,at,accounts,text\n"
        "IP Creates a Better Life,2099-04-21 09:30,mock:@IPRinCN,Fine\n"
        "IP Creates a Better Life,not a date,mock:@IPRinCN,Bad date\n"
        "IP Creates a Better Life,2099-04-21 09:30,mock:@IPRinCN,\n",
        encoding="utf-8",
    )
    code, _, err = world("schedule", "import", str(csv_file))
    assert code == 2
    assert "line 3" in err
    assert "line 4" in err
    assert _rows(embedded_env, "posts") == 0


def test_every_command_has_help_with_an_example(run: Run) -> None:
    for command in (
        ["account", "add"], ["campaign", "create"], ["post", "add"], ["post", "list"],
        ["schedule", "import"], ["report"],
    ):  # fmt: skip
        code, out, _ = run(*command, "--help")
        assert code == 0
        assert "Example" in out, f"{' '.join(command)} --help has no example"


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("PUBLICIST_DISPATCH_TICK_SECONDS", "-1", "greater than 0"),
        ("PUBLICIST_WORKER_CONCURRENCY", "eight", "valid integer"),
        ("PUBLICIST_COLLECTION_CADENCE", "1h:5x", "where a duration such as 30m"),
        ("PUBLICIST_DEFAULT_TIMEZONE", "Mars/Olympus", "not an IANA time zone"),
    ],
)
def test_a_bad_setting_is_named_before_anything_runs(
    run: Run,
    embedded_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    rule: str,
) -> None:
    monkeypatch.setenv(variable, value)
    reset_settings()
    code, _, err = run("campaign", "list")
    assert code == 2
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: invalid setting {variable}: ")
    assert rule in lines[0]
    assert repr(value) in lines[0]
    assert not (embedded_env / "publicist.db").exists()


def test_a_stuck_delivery_is_listed_as_failed_and_counted_in_the_report(
    world: Run, embedded_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker died mid-publish 20 minutes ago and nothing settled it: staff are told."""
    wide = Console(width=400)
    monkeypatch.setattr("publicist.cli.posts.console", wide)
    monkeypatch.setattr("publicist.cli.reports.console", wide)
    code, _, err = world(
        "post", "add", "-c", "IP Creates a Better Life", "-t", "Opening today",
        "--to", "mock:@IPRinCN", "--at", "2099-04-20 09:30", "--approve",
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = world("post", "list", "--failed")
    assert "0 deliveries need attention" in out
    engine = sa.create_engine(f"sqlite:///{embedded_env / 'publicist.db'}")
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "UPDATE deliveries SET state = 'publishing', attempts = 1, "
                    "due_at = datetime('now', '-20 minutes'), "
                    "next_attempt_at = datetime('now', '-20 minutes'), "
                    "last_error = 'the platform could not be asked (HTTP 503)'"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO delivery_attempts (delivery_id, number, started_at, outcome) "
                    "SELECT id, 1, datetime('now', '-20 minutes'), 'started' FROM deliveries"
                )
            )
    finally:
        engine.dispose()
    code, out, _ = world("post", "list", "--failed")
    assert code == 0
    flat = " ".join(out.split())
    assert "│ publishing (stuck) │" in flat
    assert "1 deliveries need attention" in flat
    assert "longer than the 220 s mock normally needs" in flat
    code, out, _ = world("report", "IP Creates a Better Life")
    assert code == 0
    assert "0 failed, 0 unknown; 1 need attention" in " ".join(out.split())
    code, out, _ = world("report")
    assert code == 0
    assert "attention" in out


def test_db_check_counts_finds_counts_that_differ_from_the_deliveries(
    world: Run, embedded_env: Path
) -> None:
    code, _, err = world(
        "post", "add", "-c", "IP Creates a Better Life", "-t", "Opening today",
        "--to", "mock:@IPRinCN", "--at", "2099-04-20 09:30", "--approve",
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = world("db", "check-counts")
    assert (code, "equal the deliveries" in out) == (0, True)
    engine = sa.create_engine(f"sqlite:///{embedded_env / 'publicist.db'}")
    try:
        with engine.begin() as connection:  # what no code path can do: write a count by hand
            connection.execute(sa.text("UPDATE delivery_counts SET n = n + 2"))
    finally:
        engine.dispose()
    code, _, err = world("db", "check-counts")
    assert code == 1
    assert "1 counts differ" in " ".join(err.split())
