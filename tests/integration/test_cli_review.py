"""``publicist post submit / reject / show`` and ``publicist audit export`` on the CLI."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.integration import test_cli
from tests.integration.test_cli import Run

# The CLI fixtures of test_cli: a throwaway database, an account and a campaign.
run = test_cli.run
world = test_cli.world


def _draft(world: Run, text: str = "Opening today") -> None:
    code, out, err = world(
        "post", "add", "-c", "IP Creates a Better Life", "-t", text,
        "--to", "mock:@IPRinCN", "--at", "2099-04-20 09:30",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("post 1: draft")


def test_a_post_is_submitted_rejected_and_its_history_shown(world: Run) -> None:
    _draft(world)
    code, out, err = world("post", "submit", "1")
    assert (code, out.strip()) == (0, "post 1: in_review"), err
    code, _, err = world("post", "reject", "1", "--comment", " ")
    assert code == 2
    assert "comment" in err
    code, out, err = world("post", "reject", "1", "--comment", "Add the Weibo link")
    assert (code, out.strip()) == (0, "post 1: rejected"), err
    code, _, err = world("post", "approve", "1")
    assert code == 2
    assert "is rejected; it cannot become approved" in err
    code, out, err = world("post", "show", "1")
    assert code == 0, err
    assert "post 1 in IP Creates a Better Life: rejected" in out
    assert "rejected: Add the Weibo link" in out
    for action in ("post.create", "post.submit", "post.reject"):
        assert action in out
    assert "cli" in out


def test_the_audit_export_is_csv_with_formula_cells_neutralised(
    world: Run, embedded_env: Path
) -> None:
    _draft(world, text="=HYPERLINK(1)")
    code, out, err = world("post", "approve", "1")  # the operator: submitted and approved
    assert code == 0, err
    code, out, err = world("audit", "export", "--from", "2020-01-01", "--to", "2029-12-31")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    actions = [row["action"] for row in rows]
    assert actions[-3:] == ["post.create", "post.submit", "post.approve"]
    assert {row["actor"] for row in rows} == {"cli"}
    created = rows[-3]
    assert created["after"].startswith("{")
    assert '"text":"=HYPERLINK(1)"' in created["after"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    code, _, err = world("audit", "export", "--from", "2026-05-01", "--to", "2026-04-01")
    assert code == 2
    assert "to: '2026-04-01' is before from 2026-05-01" in err
    code, _, err = world("audit", "export", "--from", "yesterday", "--to", "2026-04-01")
    assert (code, err.count("\n")) == (2, 1)
    assert "--from: 'yesterday' is not a day as YYYY-MM-DD" in err
