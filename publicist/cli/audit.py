"""``publicist audit export``: the audit log of a period as CSV, for auditors' spreadsheets."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from typing import Annotated

import typer

from campaigns.audit.models import AuditEntry
from campaigns.audit.queries import iter_entries_between
from publicist.cli.common import database
from publicist.core.errors import InvalidInput
from publicist.core.spreadsheet import neutralise

app = typer.Typer(help="The audit log: who changed what, and when.", no_args_is_help=True)

COLUMNS = (
    "id",
    "at",
    "actor",
    "person_id",
    "token_id",
    "action",
    "object_kind",
    "object_id",
    "post_id",
    "before",
    "after",
)


def compact_json(value: object) -> str:
    """JSON on one line, CJK kept readable; empty for no value."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def describe_actor(entry: AuditEntry) -> str:
    if entry.actor == "person":
        return f"person {entry.person_id}"
    if entry.actor == "token":
        owner = f" (person {entry.person_id})" if entry.person_id is not None else ""
        return f"token {entry.token_id}{owner}"
    return entry.actor


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, value, "is not a day as YYYY-MM-DD") from None


@app.command("export")
def export(
    start: Annotated[str, typer.Option("--from", help="First day (UTC), YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day (UTC), YYYY-MM-DD, included.")],
) -> None:
    """Write every audit entry of these days to standard output as CSV, oldest first.

    Cells a spreadsheet would run as formulas get a leading ' (before and after are JSON).

    Example: [bold]publicist audit export --from 2026-04-01 --to 2026-04-30 > audit.csv[/]
    """
    first, last = _day(start, "--from"), _day(end, "--to")
    writer = csv.writer(sys.stdout, lineterminator="\n")
    with database() as session:
        entries = iter_entries_between(session, start=first, end=last)
        writer.writerow(COLUMNS)
        for entry in entries:
            writer.writerow(
                [
                    neutralise(value)
                    for value in (
                        entry.id,
                        entry.at.isoformat(),
                        entry.actor,
                        entry.person_id,
                        entry.token_id,
                        entry.action,
                        entry.object_kind,
                        entry.object_id,
                        entry.post_id,
                        compact_json(entry.before),
                        compact_json(entry.after),
                    )
                ]
            )
