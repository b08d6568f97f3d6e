"""Who acts on the data: a person, an API token, or the operator at the command line."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from campaigns.people.roles import Role
from publicist.core.errors import Forbidden


class ActorKind(StrEnum):
    PERSON = "person"
    """Signed in to the workspace."""
    TOKEN = "token"  # noqa: S105 - the kind of actor, not a secret
    """An API token; ``person_id`` is its owner's, if it has one."""
    CLI = "cli"
    """The operator at the command line: no signed-in person, every right."""


@dataclass(frozen=True)
class Actor:
    """Who asks for a change: what they may do (``role``) and whom the audit names."""

    kind: ActorKind
    role: Role
    person_id: int | None = None
    token_id: int | None = None

    @property
    def label(self) -> str:
        if self.kind is ActorKind.PERSON:
            return f"person {self.person_id}"
        if self.kind is ActorKind.TOKEN:
            owner = f" (person {self.person_id})" if self.person_id is not None else ""
            return f"token {self.token_id}{owner}"
        return "cli"

    def require(self, needed: Role, action: str) -> None:
        """Refuse ``action`` unless this actor's role is ``needed`` or higher."""
        if not self.role.allows(needed):
            raise Forbidden(
                f"{action} needs the {needed.value} role; {self.label} is {self.role.value}"
            )


OPERATOR = Actor(kind=ActorKind.CLI, role=Role.ADMIN)
"""The command line: it runs on the server with the database's own rights, so the rules
about people (roles, never approving one's own post) do not apply to it."""


def person_actor(person_id: int, role: str) -> Actor:
    """A person signed in to the workspace."""
    return Actor(kind=ActorKind.PERSON, role=Role(role), person_id=person_id)
