"""What the inbox page says: each reason in plain words, each state's name, and the
services' refusals, in the person's language."""

from __future__ import annotations

from collections.abc import Callable

from campaigns.reasons import ErrorKind
from campaigns.states import InvalidTransition
from publicist.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from publicist.web.calendar_view import Notice, refusal, state_names

Gettext = Callable[[str], str]

EXCERPT = 140
"""How much of a post's text a row shows."""


def reason_texts(gettext: Gettext) -> dict[str, str]:
    """Why each item needs a person, in one short sentence (campaigns.reasons.PLAIN)."""
    return {
        ErrorKind.RATE_LIMITED: gettext(
            "The platform limits how often this account may post; it will be tried again "
            "when the platform allows."
        ),
        ErrorKind.AUTH_EXPIRED: gettext("The platform no longer accepted this account's sign-in."),
        ErrorKind.REAUTHORIZE: gettext(
            "This account must be connected again: the platform withdrew Publicist's access."
        ),
        ErrorKind.DUPLICATE: gettext(
            "The platform refused the post because it repeats a recent post."
        ),
        ErrorKind.REJECTED: gettext("The platform refused the post's content."),
        ErrorKind.INVALID: gettext("The post breaks one of the platform's rules (length, media)."),
        ErrorKind.TRANSIENT: gettext("The platform or the network failed; nothing was posted."),
        ErrorKind.NOT_FOUND: gettext("The platform no longer knows this post or publish job."),
        ErrorKind.OUTCOME_UNKNOWN: gettext(
            "The answer was lost: the post may or may not be live. Check the account, then "
            "confirm it or publish again."
        ),
        ErrorKind.OTHER: gettext("The platform refused the post."),
        ErrorKind.GAVE_UP: gettext("Every attempt failed; Publicist stopped trying."),
        ErrorKind.MISSED: gettext(
            "It was found too late to publish (Publicist was not running at its time) and "
            "the campaign says to skip late posts."
        ),
        ErrorKind.STUCK: gettext("It has waited longer than the platform normally needs."),
        ErrorKind.EXPIRED: gettext(
            "It was still waiting for approval at its time, so it was not published."
        ),
    }


def item_state_names(gettext: Gettext) -> dict[str, str]:
    return {
        **state_names(gettext),
        "rate_limited": gettext("rate-limited"),
        "expired": gettext("expired"),
    }


def excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


def done_text(action: str, gettext: Gettext) -> str:
    """What happened, once an action took the item out of the inbox."""
    return {
        "retry": gettext("Scheduled again: it will be published in a moment."),
        "reschedule": gettext("Rescheduled."),
        "cancel": gettext("Cancelled."),
        "confirm": gettext("Recorded as published at the address you checked."),
        "republish": gettext("Publishing again now."),
    }.get(action, gettext("Done."))


def problem(
    error: InvalidInput | Conflict | Forbidden | NotFound, *, gettext: Gettext, value: str, now: str
) -> Notice:
    """A service's refusal in the person's language."""
    names = item_state_names(gettext)
    if isinstance(error, InvalidTransition):
        return Notice(
            "conflict",
            gettext(
                "Someone else acted first: this is now %(state)s. The row shows it as it is now."
            )
            % {"state": names.get(error.current, error.current)},
        )
    if isinstance(error, Forbidden):
        return Notice("error", gettext("Only approvers and admins may do this."))
    if isinstance(error, NotFound):
        return Notice("error", gettext("It no longer exists."))
    if isinstance(error, InvalidInput) and error.field == "duplicate_ok":
        return Notice(
            "error",
            gettext("Tick the box first: publishing again may put the post there twice."),
        )
    if isinstance(error, InvalidInput) and error.field == "url":
        return Notice(
            "error",
            gettext("%(value)s is not a web address: give the post's http:// or https:// URL.")
            % {"value": value},
        )
    return refusal(error, gettext=gettext, value=value, now=now)
