"""What the calendar page shows: its query (view, period, filters, zone), the days of the
period with their entries, and refusals of the reschedule service in the person's language."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from markupsafe import Markup

from campaigns.calendar.queries import Entry
from campaigns.states import DeliveryState
from publicist.core.errors import Conflict, InvalidInput
from publicist.core.ids import parse_id
from publicist.core.zones import canonical_zone_names, is_canonical_zone

VIEWS = ("week", "month", "list")
QUERY_FIELDS = ("view", "start", "campaign", "platform", "account", "state", "zone")
"""The fields that say what the calendar shows; forms that change it carry them along."""
_PLATFORM = re.compile(r"[a-z0-9_-]{1,32}")

Gettext = Callable[[str], str]


@dataclass(frozen=True)
class CalendarQuery:
    view: str = "week"
    start: date | None = None
    """A day in the period shown; None: today in the zone shown."""
    campaign_id: int | None = None
    platform: str | None = None
    account_id: int | None = None
    state: DeliveryState | None = None
    zone: str = ""
    """An IANA zone the person chose; empty: the campaign's zone."""
    post_id: int | None = None
    """The post whose details are open in the panel."""

    def fields(self, **changes: Any) -> dict[str, str]:
        """The query as form fields (empty ones left out), with ``changes`` applied."""
        query = replace(self, **changes)
        values = {
            "view": query.view,
            "start": query.start.isoformat() if query.start else "",
            "campaign": str(query.campaign_id or ""),
            "platform": query.platform or "",
            "account": str(query.account_id or ""),
            "state": query.state.value if query.state else "",
            "zone": query.zone,
            "post": str(query.post_id or ""),
        }
        return {name: value for name, value in values.items() if value}

    def url(self, **changes: Any) -> str:
        return "/calendar?" + urlencode(self.fields(**changes))

    @cached_property
    def _post_url_prefix(self) -> str:
        rest = urlencode(self.fields(post_id=None))
        return "/calendar?" + rest + ("&" if rest else "")

    def post_url(self, post_id: int) -> str:
        """``url(post_id=post_id)`` (``post`` is the last field), without building the
        query again for each of a page's entries."""
        return self._post_url_prefix + urlencode({"post": str(post_id)})


@functools.cache
def zone_options(selected: str, skip: str | None) -> Markup:
    """The ``<option>`` of every IANA zone but ``skip``, ``selected`` marked: the same ~600
    options on every calendar page, built once per choice instead of by the template."""
    return Markup("").join(
        Markup("<option{}>{}</option>").format(
            Markup(" selected") if zone == selected else "", zone
        )
        for zone in sorted(canonical_zone_names())
        if zone != skip
    )


def parse_query(values: Mapping[str, str]) -> CalendarQuery:
    """The calendar query in ``values`` (a query string or a form); InvalidInput names the
    first field that is wrong."""

    def given(name: str) -> str | None:
        value = (values.get(name) or "").strip()
        return value or None

    view = given("view") or "week"
    if view not in VIEWS:
        raise InvalidInput("view", view, "must be one of " + ", ".join(VIEWS))
    start = given("start")
    try:
        day = date.fromisoformat(start) if start else None
    except ValueError:
        raise InvalidInput("start", start, "is not a date (YYYY-MM-DD)") from None
    platform = given("platform")
    if platform is not None and not _PLATFORM.fullmatch(platform):
        raise InvalidInput("platform", platform, "is not a platform name (e.g. weibo)")
    state = given("state")
    try:
        chosen_state = DeliveryState(state) if state else None
    except ValueError:
        raise InvalidInput(
            "state", state, "must be one of " + ", ".join(s.value for s in DeliveryState)
        ) from None
    zone = given("zone") or ""
    if zone and not is_canonical_zone(zone):
        raise InvalidInput("zone", zone, "is not an IANA time zone name (e.g. Asia/Shanghai)")
    ids = {name: given(name) for name in ("campaign", "account", "post")}
    parsed = {name: parse_id(text, field=name) if text else None for name, text in ids.items()}
    return CalendarQuery(
        view=view,
        start=day,
        campaign_id=parsed["campaign"],
        platform=platform,
        account_id=parsed["account"],
        state=chosen_state,
        zone=zone,
        post_id=parsed["post"],
    )


@dataclass(frozen=True)
class Shown:
    """An entry as the page shows it, with its local time and its link worked out once (a
    month shows up to 252 entries, and the template writes them inline)."""

    delivery_id: int
    post_id: int
    state: str
    account: str
    first_line: str
    time: str
    """Hours and minutes in the zone shown."""
    link: str
    """The calendar with this entry's post open in the panel."""


@dataclass(frozen=True)
class Day:
    day: date
    in_period: bool
    """False for the days of the neighbouring months that fill a month's first and last week."""
    entries: list[Shown] = field(default_factory=list)
    more: int = 0
    """Entries of the day not shown (a month shows the first few of each day)."""


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    """Inclusive: the days the page shows (whole weeks for the month grid)."""
    previous: date
    next: date
    title: str


def period(view: str, anchor: date) -> Period:
    if view == "week":
        monday = anchor - timedelta(days=anchor.weekday())
        sunday = monday + timedelta(days=6)
        return Period(
            first=monday,
            last=sunday,
            previous=monday - timedelta(days=7),
            next=monday + timedelta(days=7),
            title=f"{monday.isoformat()} – {sunday.isoformat()}",
        )
    first = anchor.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    last = following - timedelta(days=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    if view == "month":  # whole weeks, Monday first
        shown_first = first - timedelta(days=first.weekday())
        shown_last = last + timedelta(days=6 - last.weekday())
    else:
        shown_first, shown_last = first, last
    return Period(
        first=shown_first,
        last=shown_last,
        previous=previous,
        next=following,
        title=f"{first:%Y-%m}",
    )


def window(shown: Period, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The period's days in ``zone`` as a UTC range, from the first midnight to the one after."""
    start = datetime.combine(shown.first, time(), tzinfo=zone)
    end = datetime.combine(shown.last + timedelta(days=1), time(), tzinfo=zone)
    return start, end


def days(
    shown: Period,
    month: date | None,
    found: list[Entry],
    zone: ZoneInfo,
    post_url: Callable[[int], str],
    per_day: dict[date, int] | None = None,
) -> list[Day]:
    """The period's days with their entries, each linked by ``post_url``; with ``per_day``
    (each day's full count, when ``found`` holds only the first few of each day), how many
    more each day has."""
    by_day: dict[date, list[Shown]] = {}
    for entry in found:
        local = entry.due_at.astimezone(zone)
        by_day.setdefault(local.date(), []).append(
            Shown(
                delivery_id=entry.delivery_id,
                post_id=entry.post_id,
                state=entry.state,
                account=entry.account,
                first_line=entry.first_line,
                time=local.strftime("%H:%M"),
                link=post_url(entry.post_id),
            )
        )
    result = []
    day = shown.first
    while day <= shown.last:
        in_period = month is None or (day.year, day.month) == (month.year, month.month)
        listed = by_day.get(day, [])
        more = (per_day or {}).get(day, len(listed)) - len(listed)
        result.append(Day(day=day, in_period=in_period, entries=listed, more=more))
        day += timedelta(days=1)
    return result


def state_names(gettext: Gettext) -> dict[str, str]:
    """Each delivery state in the person's language (shown beside its colour, never alone)."""
    return {
        "scheduled": gettext("scheduled"),
        "queued": gettext("queued"),
        "publishing": gettext("publishing"),
        "submitted": gettext("submitted"),
        "published": gettext("published"),
        "failed": gettext("failed"),
        "cancelled": gettext("cancelled"),
        "unknown": gettext("unknown"),
        "missed": gettext("missed"),
    }


def post_state_names(gettext: Gettext) -> dict[str, str]:
    """A post's state in the person's language (a state this list lacks is shown as stored)."""
    return {
        "draft": gettext("draft"),
        "approved": gettext("approved"),
        "scheduled": gettext("scheduled"),
        "cancelled": gettext("cancelled"),
    }


def weekday_names(gettext: Gettext) -> list[str]:
    return [
        gettext("Mon"),
        gettext("Tue"),
        gettext("Wed"),
        gettext("Thu"),
        gettext("Fri"),
        gettext("Sat"),
        gettext("Sun"),
    ]


@dataclass(frozen=True)
class Notice:
    """A message on the page after an action: ``kind`` is ok, error or conflict."""

    kind: str
    text: str
    choices: list[tuple[str, str]] = field(default_factory=list)
    """For a time the clocks skip or pass twice: (value to send, how it is shown)."""


_CHOICE = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}[+-]\d{2}:\d{2}) \(([^)]+)\)")
_GAP = re.compile(r"does not exist in (\S+) \(the clocks skip from (\S+) to (\S+)\)")
_OVERLAP = re.compile(r"happens twice in (\S+) \(the clocks go back\)")
_PAST = re.compile(r"is in the past \(now is [^)]+\)")
_NOT_A_TIME = re.compile(r"is not a date and time")
_STATE_CONFLICT = re.compile(r"post (\d+) is (\w+); it cannot be rescheduled")
_STARTED_CONFLICT = re.compile(r"post (\d+) has deliveries already (\w+); it cannot be rescheduled")


def refusal(error: InvalidInput | Conflict, *, gettext: Gettext, value: str, now: str) -> Notice:
    """The reschedule service's refusal in the person's language; the time rule (DST, past)
    keeps the service's wording of the choices, which are typed back as they are shown."""
    names = state_names(gettext)
    if isinstance(error, Conflict):
        message = str(error)
        if match := _STATE_CONFLICT.fullmatch(message):
            text = gettext("Post %(post)s is %(state)s; it cannot be moved.") % {
                "post": match[1],
                "state": names.get(match[2], match[2]),
            }
        elif match := _STARTED_CONFLICT.fullmatch(message):
            text = gettext(
                "Post %(post)s has deliveries already %(state)s; it cannot be moved."
            ) % {"post": match[1], "state": names.get(match[2], match[2])}
        else:
            text = gettext("Conflict: %(detail)s") % {"detail": message}
        return Notice("conflict", text)
    rule = error.rule
    choices = [
        (f"{when}", f"{when} ({abbreviation})") for when, abbreviation in _CHOICE.findall(rule)
    ]
    if match := _GAP.search(rule):
        text = gettext(
            "%(value)s does not exist in %(zone)s: the clocks skip from %(skip_from)s to "
            "%(skip_to)s. Choose one of the times next to it:"
        ) % {"value": value, "zone": match[1], "skip_from": match[2], "skip_to": match[3]}
    elif match := _OVERLAP.search(rule):
        text = gettext(
            "%(value)s happens twice in %(zone)s (the clocks go back). Choose which one you mean:"
        ) % {"value": value, "zone": match[1]}
    elif _PAST.search(rule):
        text = gettext("%(value)s is in the past (now is %(now)s). Choose a later time.") % {
            "value": value,
            "now": now,
        }
        choices = []
    elif _NOT_A_TIME.search(rule):
        text = gettext("%(value)s is not a date and time: give a date and a time of day.") % {
            "value": value
        }
        choices = []
    else:
        text = gettext("%(field)s: %(value)s %(rule)s") % {
            "field": error.field,
            "value": value,
            "rule": rule,
        }
        choices = []
    return Notice("error", text, choices)
