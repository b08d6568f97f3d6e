"""``publicist report`` as staff use it: campaign, account and list views, JSON/CSV, chart."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from rich.console import Console

from connectors.base import MetricCounts
from metrics.cadence import Cadence
from metrics.collection import record_counts
from publicist.cli.main import main
from publicist.core.database import dispose_engines, make_engine, session_scope
from publicist.core.migrate import upgrade
from tests.unit.metrics import builders
from tests.unit.metrics.builders import PLATFORMS

Run = Callable[..., tuple[int, str, str]]
NOW = datetime(2021, 4, 26, 1, 0, tzinfo=UTC)
WEEK = "2021 National IP Publicity Week"


@pytest.fixture
def run(
    embedded_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Run]:
    monkeypatch.setattr("metrics.platforms.capabilities_of", PLATFORMS.get)
    monkeypatch.setattr("publicist.cli.reports.console", Console(width=200))

    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.argv", ["publicist", *args])
        capsys.readouterr()
        with pytest.raises(SystemExit) as caught:
            main()
        captured = capsys.readouterr()
        code = caught.value.code
        return (code if isinstance(code, int) else 0), captured.out, captured.err

    yield invoke
    dispose_engines()


@pytest.fixture
def seeded(run: Run, embedded_env: Path) -> Run:
    """IP Week on X, Weibo (no views), WeChat and TikTok, measured on two days."""
    url = f"sqlite:///{embedded_env / 'publicist.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        week = builders.campaign(session, name=WEEK, now=NOW)
        builders.campaign(session, name="Young Innovators", now=NOW)
        for platform in ("x", "weibo", "wechat", "tiktok"):
            handle = "@IPRinCN" if platform == "x" else f"cnipa-{platform}"
            account = builders.account(session, platform=platform, handle=handle, now=NOW)
            items = [
                builders.delivery(session, campaign=week, account=account, at=NOW) for _ in range(2)
            ]
            for day, factor in ((0, 1), (1, 4)):
                record_counts(
                    session,
                    capabilities=PLATFORMS[platform],
                    delivery_ids={str(d.remote_id): d.id for d in items},
                    counts=[
                        MetricCounts(
                            remote_id=str(d.remote_id),
                            views=None if platform == "weibo" else 500 * factor,
                            likes=20 * factor,
                            comments=2 * factor,
                            shares=3 * factor,
                        )
                        for d in items
                    ],
                    cadence=Cadence(),
                    now=NOW + timedelta(days=day, hours=1),
                )
    engine.dispose()
    return run


def test_the_campaign_report_as_json_carries_totals_coverage_and_days(seeded: Run) -> None:
    code, out, err = seeded("report", WEEK, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["campaign"] == WEEK
    assert data["views"] == 3 * 2 * 2000
    assert data["views_coverage"] == "3 of 4 platforms"
    assert data["coverage"]["comments"] == "3 of 4 platforms"  # WeChat gives none
    assert data["last_updated"] == "2021-04-27T02:00:00+00:00"
    weibo = next(p for p in data["platforms"] if p["platform"] == "weibo")
    assert weibo["views"] is None
    assert sum(p["interactions"] for p in data["daily"]) == data["interactions"]
    assert {p["day"] for p in data["daily"]} == {"2021-04-26", "2021-04-27"}


def test_the_table_says_not_available_and_states_coverage(seeded: Run) -> None:
    code, out, err = seeded("report", WEEK, "--daily")
    assert code == 0, err
    assert "views: 12,000 (3 of 4 platforms)" in out
    assert "n/a" in out
    assert "per day (Asia/Shanghai)" in out


def test_the_chart_is_written_as_svg(seeded: Run, embedded_env: Path) -> None:
    target = embedded_env / "week.svg"
    code, out, err = seeded("report", WEEK, "--chart", str(target), "--format", "csv")
    assert code == 0, err
    root = ET.fromstring(target.read_text(encoding="utf-8"))  # noqa: S314 - our own file
    ids = {group.attrib.get("id", "") for group in root.iter("{http://www.w3.org/2000/svg}g")}
    lines = {i.removeprefix("series-series-interactions-") for i in ids if "-interactions-" in i}
    assert lines == {"x", "weibo", "wechat", "tiktok"}
    assert "series-series-views-weibo" not in ids  # Weibo gives no views: no line, never 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["platform"] for r in rows] == ["tiktok", "wechat", "weibo", "x", "all"]
    assert rows[2]["views"] == ""  # Weibo: not available, never 0


def test_daily_csv_lists_growth_per_day(seeded: Run) -> None:
    code, out, err = seeded("report", WEEK, "--daily", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 8
    x = [r for r in rows if r["platform"] == "x"]
    assert [(r["day"], r["views"]) for r in x] == [("2021-04-26", "1000"), ("2021-04-27", "3000")]


def test_the_account_view_in_every_format(seeded: Run) -> None:
    code, out, err = seeded("report", "--account", "x:@IPRinCN", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["account"], data["published"], data["views"]) == ("x:@IPRinCN", 2, 4000)
    assert data["interactions"] == 2 * 4 * 25
    assert data["campaigns"][0]["campaign"] == WEEK

    code, out, err = seeded("report", "--account", "x:@IPRinCN", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["campaign"], r["views"]) for r in rows] == [(WEEK, "4000"), ("all", "4000")]

    code, out, err = seeded("report", "--account", "cnipa-weibo")
    assert code == 0, err
    assert "views: n/a" in out


def test_without_arguments_every_campaign_is_listed(seeded: Run) -> None:
    code, out, err = seeded("report", "--format", "json")
    assert code == 0, err
    assert [c["campaign"] for c in json.loads(out)] == ["Young Innovators", WEEK]
    code, out, err = seeded("report")
    assert code == 0, err
    assert "Young Innovators" in out
    assert "8 of 8" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", WEEK, "--account", "x:@IPRinCN"], "cannot be combined"),
        (["report", WEEK, "--chart", "week.png"], "must name an .svg file"),
        (["report", WEEK, "Young Innovators", "--chart", "w.svg"], "needs exactly one campaign"),
        (["report", "--account", "x:@IPRinCN", "--chart", "w.svg"], "needs exactly one"),
        (["report", "--account", "twitter:@nobody"], "is not a known account"),
        (["report", "No Such Campaign"], "No Such Campaign"),
    ],
)
def test_bad_input_gets_one_line_and_exit_code_2(
    seeded: Run, args: list[str], message: str
) -> None:
    code, out, err = seeded(*args)
    assert code == 2
    assert message in err
    assert out == ""


FORMULA = '=HYPERLINK("http://example.com/x","open")'


@pytest.fixture
def formula_named(seeded: Run, embedded_env: Path) -> Run:
    """A campaign whose name a spreadsheet would run, published and measured on X."""
    engine = make_engine(f"sqlite:///{embedded_env / 'publicist.db'}")
    with session_scope(engine) as session:
        campaign = builders.campaign(session, name=FORMULA, now=NOW)
        account = builders.account(session, platform="x", handle="-ops", now=NOW)
        item = builders.delivery(session, campaign=campaign, account=account, at=NOW)
        record_counts(
            session,
            capabilities=PLATFORMS["x"],
            delivery_ids={str(item.remote_id): item.id},
            counts=[
                MetricCounts(remote_id=str(item.remote_id), views=10, likes=1, comments=0, shares=0)
            ],
            cadence=Cadence(),
            now=NOW + timedelta(hours=1),
        )
    engine.dispose()
    return seeded


@pytest.mark.parametrize(
    "args",
    [
        ["report", FORMULA, "--format", "csv"],
        ["report", FORMULA, "--daily", "--format", "csv"],
        ["report", "--format", "csv"],
        ["report", "--account", "x:-ops", "--format", "csv"],
    ],
)
def test_every_csv_export_neutralises_cells_a_spreadsheet_would_run(
    formula_named: Run, args: list[str]
) -> None:
    code, out, err = formula_named(*args)
    assert code == 0, err
    cells = [cell for row in csv.reader(io.StringIO(out)) for cell in row]
    assert "'" + FORMULA in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]


APRIL = ["--from", "2021-04-01", "--to", "2021-04-30"]


def test_the_period_report_has_the_campaign_report_totals(seeded: Run) -> None:
    code, out, err = seeded("report", WEEK, "--format", "json")
    assert code == 0, err
    campaign = json.loads(out)
    code, out, err = seeded("report", *APRIL, "--campaign", WEEK, "--format", "json")
    assert code == 0, err
    period = json.loads(out)
    assert (period["totals"]["published"], period["totals"]["views"]) == (
        campaign["published"],
        campaign["views"],
    )
    assert period["totals"]["interactions"] == campaign["interactions"]
    assert period["totals"]["views_coverage"] == "3 of 4 platforms"
    assert period["summary"] == (
        f'In April 2021, the campaign "{WEEK}" published 8 articles, which drew '
        f"12,000 views (on 3 of 4 platforms) and {campaign['interactions']} interactions."
    )
    code, out, err = seeded("report", *APRIL, "--language", "zh_CN")
    assert code == 0, err
    assert "2021年4月，4个账号共发布8篇文章" in out
    assert "per month" in out


def test_the_period_report_is_written_to_a_file(seeded: Run, embedded_env: Path) -> None:
    target = embedded_env / "april.xlsx"
    code, out, err = seeded(
        "report", *APRIL, "--account", "x:@IPRinCN", "--format", "xlsx", "--output", str(target)
    )
    assert code == 0, err
    assert target.read_bytes().startswith(b"PK")  # a zip: the XLSX container
    code, out, err = seeded("report", *APRIL, "--format", "pdf")
    assert code == 0, err
    written = embedded_env / "publicist-report-2021-04-01-2021-04-30.pdf"
    assert written.read_bytes().startswith(b"%PDF-")
    assert "report written to" in err
    code, out, err = seeded("report", *APRIL, "--format", "html")
    assert code == 0, err
    assert out.startswith("<!DOCTYPE html>")


def test_period_csv_and_xlsx_neutralise_formulas(formula_named: Run, embedded_env: Path) -> None:
    code, out, err = formula_named("report", *APRIL, "--format", "csv")
    assert code == 0, err
    cells = [cell for row in csv.reader(io.StringIO(out)) for cell in row]
    assert "'" + FORMULA in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    target = embedded_env / "april.xlsx"
    code, out, err = formula_named("report", *APRIL, "--format", "xlsx", "-o", str(target))
    assert code == 0, err
    book = load_workbook(target)
    names = [row[0] for row in book["Per campaign"].iter_rows(values_only=True)]
    assert "'" + FORMULA in names


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--from", "2021-04-01"], "--to"),
        (["report", "--from", "1 April", "--to", "2021-04-30"], "is not a date"),
        (["report", "--from", "2021-04-30", "--to", "2021-04-01"], "must not be before"),
        (["report", WEEK, *APRIL], "goes in --campaign"),
        (["report", *APRIL, "--campaign", WEEK, "--account", "x:@IPRinCN"], "cannot be combined"),
        (["report", *APRIL, "--language", "fr"], "must be one of"),
        (["report", WEEK, "--format", "pdf"], "is for period reports"),
        (["report", *APRIL, "--campaign", "Nope"], "is not a known campaign"),
        (["report", *APRIL, "--output", "no/such/folder/r.pdf", "-f", "pdf"], "folder"),
    ],
)
def test_bad_period_input_gets_one_line_and_exit_code_2(
    seeded: Run, args: list[str], message: str
) -> None:
    code, out, err = seeded(*args)
    assert code == 2, err
    assert message in err
    assert out == ""
