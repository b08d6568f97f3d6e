"""Adding people, disabling them, setting passwords, and checking a password at sign-in."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from campaigns.actors import OPERATOR, Actor
from campaigns.audit.log import person_fields, record
from campaigns.people.models import Person
from campaigns.people.passwords import hash_password, needs_rehash, verify_password
from campaigns.people.queries import find_person, get_person, normalise_email
from campaigns.people.roles import Role
from campaigns.validation import parse_timezone
from publicist.core.errors import Conflict, InvalidInput

LANGUAGES = ("zh_CN", "en")
"""The languages the workspace is translated into."""

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def check_language(language: str | None) -> str | None:
    if language is None or language in LANGUAGES:
        return language
    raise InvalidInput("language", language, "must be one of " + ", ".join(LANGUAGES))


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("name", name, "must not be empty")
    if len(name) > 100:
        raise InvalidInput("name", name, "must be at most 100 characters")
    return name


def _check_email(email: str) -> str:
    email = normalise_email(email)
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidInput("email", email, "is not an e-mail address (e.g. name@example.org)")
    return email


def add_person(
    session: Session,
    *,
    name: str,
    email: str,
    role: Role,
    password: str,
    now: datetime,
    language: str | None = None,
    timezone: str | None = None,
    actor: Actor = OPERATOR,
) -> Person:
    """A new person; every field is checked before anything is written."""
    actor.require(Role.ADMIN, "adding a person")
    name = _check_name(name)
    email = _check_email(email)
    language = check_language(language)
    if timezone is not None:
        parse_timezone(timezone)
    if find_person(session, email=email) is not None:
        raise Conflict(f"email: a person with {email!r} already exists")
    person = Person(
        name=name,
        email=email,
        role=role.value,
        password_hash=hash_password(password),
        language=language,
        timezone=timezone,
        disabled=False,
        created_at=now,
    )
    session.add(person)
    session.flush()
    _record(session, person, "person.add", {}, actor=actor, now=now)
    return person


def disable_person(
    session: Session, *, email: str, now: datetime, actor: Actor = OPERATOR
) -> Person:
    """Stop a person signing in; their sessions and API tokens stop working at once."""
    actor.require(Role.ADMIN, "disabling a person")
    person = get_person(session, email=email)
    if person.disabled:
        raise Conflict(f"{person.email} is already disabled")
    before = person_fields(person)
    person.disabled = True
    session.flush()
    _record(session, person, "person.disable", before, actor=actor, now=now)
    return person


def reset_password(
    session: Session, *, email: str, password: str, now: datetime, actor: Actor = OPERATOR
) -> Person:
    actor.require(Role.ADMIN, "resetting a password")
    person = get_person(session, email=email)
    person.password_hash = hash_password(password)
    session.flush()
    # The audit says that the password changed, never what to.
    record(
        session,
        actor=actor,
        action="person.reset_password",
        kind="person",
        object_id=person.id,
        after={"password": "(changed)"},
        now=now,
    )
    return person


def set_language(
    session: Session, *, person: Person, language: str | None, now: datetime, actor: Actor
) -> None:
    """A person's own choice of language (``actor`` is that person)."""
    before = person_fields(person)
    person.language = check_language(language)
    session.flush()
    _record(session, person, "person.language", before, actor=actor, now=now)


def _record(
    session: Session,
    person: Person,
    action: str,
    before: dict[str, object],
    *,
    actor: Actor,
    now: datetime,
) -> None:
    record(
        session,
        actor=actor,
        action=action,
        kind="person",
        object_id=person.id,
        before=before,
        after=person_fields(person),
        now=now,
    )


def check_password(session: Session, *, email: str, password: str) -> Person | None:
    """The enabled person with this e-mail and password, or None.

    Unknown e-mail, wrong password and disabled person look the same to the caller, so a
    sign-in page cannot be used to learn who has an account. A hash made with weaker
    parameters than today's is replaced on a successful check.
    """
    person = find_person(session, email=email)
    if not verify_password(person.password_hash if person else None, password):
        return None
    if person is None or person.disabled:
        return None
    if needs_rehash(person.password_hash):
        person.password_hash = hash_password(password, check=False)
        session.flush()
    return person
