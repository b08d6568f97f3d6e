"""Hostile or odd input on the command line: one line naming field, value and rule, exit 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from publicist.cli.main import main

Run = Callable[..., tuple[int, str, str]]
NEW_YORK = "New York launch"


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
        # Rich wraps at 80 columns here; the words are what matter.
        out = " ".join(captured.out.split())
        return (code if isinstance(code, int) else 0), out, captured.err

    return invoke


def _rows(workdir: Path, table: str) -> int:
    engine = sa.create_engine(f"sqlite:///{workdir / 'publicist.db'}")
    try:
        with engine.connect() as connection:
            query = sa.select(sa.func.count()).select_from(sa.table(table))
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


def _one_error_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def world(run: Run) -> Run:
    assert run("account", "add", "mock", "@IPRinCN", "--token", "secret-token-123")[0] == 0
    code, _, err = run("campaign", "create", NEW_YORK, "--timezone", "America/New_York")
    assert code == 0, err
    return run


@pytest.mark.parametrize(
    "quota",
    ["5/nan", "5/inf", "5/-1", "5/0", "0/60", "-1/60", "99999999999999999999999/60", "5/1e999"],
)
def test_a_rate_limit_that_means_no_quota_is_refused(
    run: Run, embedded_env: Path, quota: str
) -> None:
    run("campaign", "list")  # creates the schema
    code, _, err = run("account", "add", "mock", "@x", "--token", "t", "--rate-limit", quota)
    assert code == 2
    line = _one_error_line(err)
    assert "--rate-limit" in line
    assert quota in line
    assert _rows(embedded_env, "accounts") == 0


def test_a_valid_rate_limit_is_listed(run: Run) -> None:
    assert run("account", "add", "mock", "@x", "--token", "t", "--rate-limit", "30/3600")[0] == 0
    code, out, err = run("account", "list")
    assert code == 0, err
    assert "30/3600s" in out


def test_an_account_whose_period_was_stored_empty_still_lists(run: Run, embedded_env: Path) -> None:
    """Before the check, '5/nan' was stored as 5 requests per NULL seconds."""
    assert run("account", "add", "mock", "@x", "--token", "t")[0] == 0
    engine = sa.create_engine(f"sqlite:///{embedded_env / 'publicist.db'}")
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE accounts SET rate_limit_requests = 5"))
    engine.dispose()
    code, out, err = run("account", "list")
    assert code == 0, err
    assert "platform default" in out


@pytest.mark.parametrize("zone", ["localtime", "posix/Asia/Shanghai", "right/UTC", "Factory"])
def test_a_host_dependent_zone_name_is_refused(run: Run, embedded_env: Path, zone: str) -> None:
    run("campaign", "list")
    code, _, err = run("campaign", "create", "Somewhere", "--timezone", zone)
    assert code == 2
    line = _one_error_line(err)
    assert f"timezone: {zone!r} is not an IANA time zone name" in line
    assert _rows(embedded_env, "campaigns") == 0


def _add(run: Run, *args: str) -> tuple[int, str, str]:
    return run("post", "add", "-c", NEW_YORK, "--to", "mock:@IPRinCN", *args)


def test_a_time_in_the_spring_gap_is_refused_with_its_neighbours(
    world: Run, embedded_env: Path
) -> None:
    code, _, err = _add(world, "-t", "Hi", "--at", "2099-03-08 02:30", "--approve")
    assert code == 2
    line = _one_error_line(err)
    assert "does not exist in America/New_York" in line
    assert "2099-03-08 01:59-05:00 (EST) or 2099-03-08 03:00-04:00 (EDT)" in line
    assert _rows(embedded_env, "posts") == 0


def test_a_time_in_the_autumn_overlap_needs_its_offset(world: Run, embedded_env: Path) -> None:
    code, _, err = _add(world, "-t", "Hi", "--at", "2099-11-01 01:30", "--approve")
    assert code == 2
    line = _one_error_line(err)
    assert "happens twice in America/New_York" in line
    assert "2099-11-01 01:30-04:00 (EDT) or 2099-11-01 01:30-05:00 (EST)" in line
    assert _rows(embedded_env, "posts") == 0
    code, out, err = _add(world, "-t", "Hi", "--at", "2099-11-01 01:30-05:00", "--approve")
    assert code == 0, err
    assert "at 2099-11-01 01:30-05:00 (EST, America/New_York)" in out


def test_reschedule_follows_the_same_rule_and_prints_the_resolved_time(world: Run) -> None:
    code, out, err = _add(world, "-t", "Hi", "--at", "2099-03-07 09:00")
    assert code == 0, err
    assert "at 2099-03-07 09:00-05:00 (EST, America/New_York)" in out
    code, _, err = world("post", "reschedule", "1", "--at", "2099-03-08 02:00")
    assert code == 2
    assert "01:59-05:00 (EST) or 2099-03-08 03:00-04:00 (EDT)" in _one_error_line(err)
    code, out, err = world("post", "reschedule", "1", "--at", "2099-03-08 03:00")
    assert code == 0, err
    assert "now at 2099-03-08 03:00-04:00 (EDT, America/New_York)" in out


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["-t", "\u200b"], "text"),
        (["-t", "\u2800\u3164\u00ad\u2060\ufeff"], "text"),
        (["-t", "Hi", "--title", "\u200b"], "title"),
        (["-t", "Hi", "--text-for", "mock=\u200b\u200b"], "variant[mock].text"),
        (["-t", "Hi", "--digest-for", "mock=\u2800"], "variant[mock].digest"),
    ],
)
def test_text_with_nothing_visible_is_empty(
    world: Run, embedded_env: Path, args: list[str], field: str
) -> None:
    code, _, err = _add(world, *args, "--at", "2099-04-20 09:30")
    assert code == 2
    line = _one_error_line(err)
    assert f"error: {field}: " in line
    assert "must not be empty" in line
    assert _rows(embedded_env, "posts") == 0


@pytest.mark.parametrize(
    "command",
    [
        ["post", "cancel", "99999999999999999999"],
        ["post", "approve", "1", "3000000000"],
        ["post", "retry", "²"],
        ["post", "reschedule", "2147483648", "--at", "2099-04-20 09:30"],
        ["token", "revoke", "99999999999999999999"],
    ],
)
def test_ids_the_database_cannot_hold_are_refused(world: Run, command: list[str]) -> None:
    code, _, err = world(*command)
    assert code == 2
    line = _one_error_line(err)
    assert "is not an id (a whole number from 1 to 2147483647)" in line


@pytest.mark.parametrize(
    "command",
    [
        ["campaign", "show", "99999999999999999999"],
        ["report", "99999999999999999999"],
        ["report", "--account", "99999999999999999999"],
        ["post", "list", "-c", "99999999999999999999"],
    ],
)
def test_names_that_look_like_huge_ids_are_unknown(world: Run, command: list[str]) -> None:
    code, _, err = world(*command)
    assert code == 2
    assert "is not a known" in _one_error_line(err)


CSV_HEADER = "campaign,at,accounts,text\n"
CSV_ROW = NEW_YORK + ",2099-04-21 09:30,mock:@IPRinCN,{text}\n"


def _no_traceback_exit_2(err: str) -> str:
    assert "Traceback" not in err
    assert err.startswith("error: schedule not imported"), err
    return " ".join(err.split())


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ((CSV_HEADER + CSV_ROW.format(text="专利")).encode("gbk"), "line 2: the file is not UTF-8"),
        ((CSV_HEADER + CSV_ROW.format(text="专利")).encode("utf-16"), "line 1: the file is UTF-16"),
        (
            (CSV_HEADER + CSV_ROW.format(text="ok")).encode("utf-16-le"),
            "line 1: contains a NUL character",
        ),
        (
            (CSV_HEADER + CSV_ROW.format(text='"open') + CSV_ROW.format(text="x")).encode(),
            "line 2: a quoted field opened in this row is never closed",
        ),
        (
            (CSV_HEADER + CSV_ROW.format(text="x" * 200_000)).encode(),
            "line 2: a field is longer than 131,072 characters",
        ),
    ],
)
def test_a_file_that_cannot_be_read_gets_its_line_and_exit_2(
    world: Run, embedded_env: Path, data: bytes, words: str
) -> None:
    path = embedded_env / "week.csv"
    path.write_bytes(data)
    code, _, err = world("schedule", "import", str(path))
    assert code == 2
    assert words in _no_traceback_exit_2(err)
    assert _rows(embedded_env, "posts") == 0


def test_a_csv_with_a_byte_order_mark_imports_and_prints_the_count(
    world: Run, embedded_env: Path
) -> None:
    path = embedded_env / "week.csv"
    text = CSV_HEADER + CSV_ROW.format(text='"First line\nsecond line"') + CSV_ROW.format(text="B")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    code, out, err = world("schedule", "import", str(path))
    assert code == 0, err
    assert "imported 2 posts (2 deliveries scheduled)" in out
    assert _rows(embedded_env, "deliveries") == 2


def test_a_file_over_the_row_cap_is_refused(
    world: Run, embedded_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("campaigns.importing.MAX_IMPORT_ROWS", 2)
    path = embedded_env / "week.csv"
    path.write_text(CSV_HEADER + CSV_ROW.format(text="a") * 3, encoding="utf-8")
    code, _, err = world("schedule", "import", str(path))
    assert code == 2
    assert "line 4: the file has more than 2 rows" in _no_traceback_exit_2(err)
    assert _rows(embedded_env, "posts") == 0


def test_a_hashtag_that_shows_nothing_is_left_out(run: Run) -> None:
    code, _, err = run(
        "campaign", "create", "Tags", "--timezone", "UTC",
        "--hashtag", "\u200b\u2060", "--hashtag", "#IP", "--hashtag", " ",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = run("campaign", "show", "Tags")
    assert code == 0, err
    assert "hashtags: #IP" in out
    assert "\u200b" not in out
