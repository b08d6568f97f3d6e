"""The root of every error Publicist raises on purpose."""

from __future__ import annotations

from typing import Any


class PublicistError(Exception):
    """Base class: anything derived from it is an expected failure with a readable message."""


class InvalidInput(PublicistError):
    """Bad input from a person or a client: names the field, the value and the rule broken."""

    def __init__(self, field: str, value: Any, rule: str) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(f"{field}: {_show(value)} {rule}")


class NotFound(PublicistError):
    """A named thing (campaign, account, post) does not exist."""

    def __init__(self, kind: str, key: Any, hint: str | None = None) -> None:
        self.kind = kind
        self.key = key
        message = f"{kind} {_show(key)} does not exist"
        super().__init__(f"{message}; {hint}" if hint else message)


class Conflict(PublicistError):
    """The request is valid but the current state of the data refuses it."""


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Forbidden(PublicistError):
    """The caller is known but may not do this (a role too low, approving their own post)."""
