"""What a notification says, in the recipient's language (the workspace's catalogues)."""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.events.kinds import EventKind
from campaigns.events.models import Event
from publicist.core.catalogues import translations


def N_(message: str) -> str:
    """Marks a message for extraction (make messages); it is translated when used."""
    return message


TITLES = {
    EventKind.DELIVERY_FAILED: N_("A post was not published"),
    EventKind.OUTCOME_UNKNOWN: N_("A post may or may not have been published"),
    EventKind.APPROVAL_EXPIRED: N_("A post was not approved in time"),
    EventKind.DUE_UNCLAIMED: N_("Posts are due but no worker picked them up"),
    EventKind.ACCOUNT_RECONNECT: N_("An account needs reconnecting"),
    EventKind.TOKEN_LAPSING: N_("An account's authorisation lapses soon"),
    EventKind.RATE_LIMITED: N_("An account is rate-limited for more than an hour"),
    EventKind.REPORT_READY: N_("A report is ready"),
}
KIND_NAMES = {
    EventKind.DELIVERY_FAILED: N_("Delivery failed"),
    EventKind.OUTCOME_UNKNOWN: N_("Outcome unknown"),
    EventKind.APPROVAL_EXPIRED: N_("Approval expired"),
    EventKind.DUE_UNCLAIMED: N_("Due but not picked up"),
    EventKind.ACCOUNT_RECONNECT: N_("Account needs reconnecting"),
    EventKind.TOKEN_LAPSING: N_("Authorisation lapses soon"),
    EventKind.RATE_LIMITED: N_("Rate-limited for over an hour"),
    EventKind.REPORT_READY: N_("Report ready"),
}


@dataclass(frozen=True)
class Message:
    title: str
    body: str


def kind_name(kind: str, language: str) -> str:
    return translations(language).gettext(KIND_NAMES[EventKind(kind)])


def _lines(event: Event, language: str, base_url: str) -> list[str]:
    gettext = translations(language).gettext
    payload = event.payload
    lines = [gettext(TITLES[EventKind(event.kind)])]
    if event.post_id is not None:
        lines.append(gettext("Post: %(post)s") % {"post": event.post_id})
    if payload.get("account"):
        lines.append(gettext("Account: %(account)s") % {"account": payload["account"]})
    lines.append(gettext("Reason: %(reason)s") % {"reason": payload.get("reason", "")})
    lines.append(gettext("Open: %(link)s") % {"link": base_url.rstrip("/") + payload["link"]})
    return lines


def message_for(event: Event, *, language: str, base_url: str) -> Message:
    """One event, one message: what happened, the reason in plain words, and a link."""
    lines = _lines(event, language, base_url)
    return Message(title="Publicist: " + lines[0], body="\n".join(lines))


def digest_for(events: list[Event], *, language: str, base_url: str) -> Message:
    """Many events gathered over a digest window, in one message."""
    catalogue = translations(language)
    title = catalogue.ngettext(
        "%(count)d event in Publicist", "%(count)d events in Publicist", len(events)
    ) % {"count": len(events)}
    blocks = ["\n".join(_lines(event, language, base_url)) for event in events]
    return Message(title=title, body="\n\n".join(blocks))
