"""A campaign on simulated X accounts: every delivery with its own text, due over a window."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from campaigns.accounts import create_account
from connectors.base import Credentials
from publicist.core.database import session_scope
from simulators.control import SimulatorControl
from tests import factories

CAMPAIGN = "2021 National IP Publicity Week"


@dataclass(frozen=True)
class Schedule:
    remote_account: dict[int, str]
    """Publicist account id -> the account's id on the simulator."""
    deliveries: int


def schedule_posts(
    engine: Engine,
    control: SimulatorControl,
    *,
    base_url: str,
    accounts: int,
    per_account: int,
    first_in: float,
    spacing: float,
    quota: tuple[int, float] | None = None,
) -> Schedule:
    """``per_account`` posts on each of ``accounts`` X accounts, the first due in ``first_in``
    seconds and then one round every ``spacing`` seconds. ``quota`` overrides the accounts'
    publishing quota (requests, per seconds)."""
    run = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    remote: dict[int, str] = {}
    handles: list[str] = []
    with session_scope(engine) as session:
        factories.campaign(session, name=CAMPAIGN, now=now)
        for index in range(accounts):
            handle = f"@cnipa_fault_{index}"
            granted = control.add_account(handle)
            account = create_account(
                session,
                platform="twitter",
                handle=handle,
                credentials=Credentials.from_dict(granted),
                secret=factories.SECRET,
                now=now,
                api_base_url=base_url,
                rate_limit_requests=quota[0] if quota else None,
                rate_limit_per_seconds=quota[1] if quota else None,
            )
            remote[account.id] = str(granted["account_id"])
            handles.append(handle)
        for n in range(per_account):
            for handle in handles:
                factories.scheduled_post(
                    session,
                    campaign_name=CAMPAIGN,
                    accounts=[f"twitter:{handle}"],
                    now=now,
                    in_seconds=first_in + n * spacing,
                    text=f"IP Week notice {n} for {handle} (run {run})",
                )
    return Schedule(remote_account=remote, deliveries=accounts * per_account)
