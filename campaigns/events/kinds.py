"""The kinds of event Publicist tells people about."""

from __future__ import annotations

from enum import StrEnum

from publicist.core.errors import InvalidInput


class EventKind(StrEnum):
    DELIVERY_FAILED = "delivery_failed"
    OUTCOME_UNKNOWN = "outcome_unknown"
    APPROVAL_EXPIRED = "approval_expired"
    DUE_UNCLAIMED = "due_unclaimed"
    ACCOUNT_RECONNECT = "account_reconnect"
    TOKEN_LAPSING = "token_lapsing"  # noqa: S105 - an event kind, not a password
    RATE_LIMITED = "rate_limited"
    REPORT_READY = "report_ready"


KINDS = tuple(kind.value for kind in EventKind)


def parse_kinds(values: list[str] | tuple[str, ...], *, field: str = "events") -> list[str]:
    """``values`` checked against the known kinds; an unknown one is named with the choices."""
    chosen: list[str] = []
    for value in values:
        if value not in KINDS:
            raise InvalidInput(field, value, f"is not an event kind (one of {', '.join(KINDS)})")
        if value not in chosen:
            chosen.append(value)
    return chosen
