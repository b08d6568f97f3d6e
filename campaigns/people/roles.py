"""Roles, from least to most trusted; each role may do everything the ones below it may."""

from __future__ import annotations

from enum import StrEnum

from publicist.core.errors import InvalidInput


class Role(StrEnum):
    VIEWER = "viewer"
    """Reads reports and the dashboard."""
    EDITOR = "editor"
    """Also writes: campaigns, posts (drafts), imports."""
    APPROVER = "approver"
    """Also approves or rejects posts and schedules them."""
    ADMIN = "admin"
    """Also manages people, accounts and tokens."""

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


# The ranks only order the roles. Since the review states, approving, scheduling, cancelling
# and retrying need 'approver': a stored 'editor' lost them (README: upgrading).
_RANKS = {Role.VIEWER: 0, Role.EDITOR: 1, Role.APPROVER: 2, Role.ADMIN: 3}

ROLE_RULE = "must be one of " + ", ".join(role.value for role in Role)


def parse_role(value: str, *, field: str = "role") -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(field, value, ROLE_RULE) from None


def lower(first: Role, second: Role) -> Role:
    """The less trusted of two roles (a token's rights are capped by its owner's)."""
    return first if first.rank <= second.rank else second
