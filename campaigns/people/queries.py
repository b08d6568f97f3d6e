"""Reads about people, shared by the CLI, the API and the workspace."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.people.models import Person
from publicist.core.errors import NotFound


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_person(session: Session, *, email: str) -> Person | None:
    return session.scalar(select(Person).where(Person.email == normalise_email(email)))


def get_person(session: Session, *, email: str) -> Person:
    person = find_person(session, email=email)
    if person is None:
        raise NotFound("person", email.strip(), "see 'publicist user list'")
    return person


def list_people(session: Session) -> list[Person]:
    return list(session.scalars(select(Person).order_by(Person.id)))
