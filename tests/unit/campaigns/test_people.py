"""People: passwords hashed with argon2, roles ordered, fields checked before any write."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.actors import OPERATOR
from campaigns.people.models import Person
from campaigns.people.passwords import (
    generate_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from campaigns.people.queries import find_person, list_people
from campaigns.people.roles import Role, lower, parse_role
from campaigns.people.services import (
    add_person,
    check_password,
    disable_person,
    reset_password,
    set_language,
)
from publicist.core.clock import FrozenClock
from publicist.core.errors import Conflict, InvalidInput, NotFound

PASSWORD = "correct horse battery"


def _add(session: Session, clock: FrozenClock, email: str = "Li.Na@Example.org") -> Person:
    return add_person(
        session, name="Li Na", email=email, role=Role.EDITOR, password=PASSWORD, now=clock.now()
    )


def test_a_password_is_stored_as_an_argon2id_hash_and_verified() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "x")
    assert not verify_password(None, PASSWORD)  # unknown person
    assert not verify_password("not a hash", PASSWORD)
    assert not needs_rehash(stored)
    assert hash_password(PASSWORD) != stored  # salted


def test_weak_hash_parameters_are_noticed() -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    assert needs_rehash(weak)


@pytest.mark.parametrize("password", ["short", "x" * 1025])
def test_a_password_breaking_the_length_rule_is_refused_without_showing_it(
    password: str,
) -> None:
    with pytest.raises(InvalidInput) as caught:
        hash_password(password)
    assert caught.value.field == "password"
    assert password not in str(caught.value)


def test_generated_passwords_are_long_and_different() -> None:
    first, second = generate_password(), generate_password()
    assert len(first) >= 20
    assert first != second


def test_roles_are_ordered_with_approver_between_editor_and_admin() -> None:
    assert Role.ADMIN.allows(Role.APPROVER)
    assert Role.APPROVER.allows(Role.EDITOR)
    assert not Role.EDITOR.allows(Role.APPROVER)
    assert not Role.VIEWER.allows(Role.EDITOR)
    assert lower(Role.ADMIN, Role.EDITOR) is Role.EDITOR
    assert parse_role("approver") is Role.APPROVER
    with pytest.raises(InvalidInput, match="viewer, editor, approver, admin"):
        parse_role("owner")


def test_a_person_signs_in_with_any_case_of_their_email(
    session: Session, clock: FrozenClock
) -> None:
    person = _add(session, clock)
    assert person.email == "li.na@example.org"
    assert person.password_hash.startswith("$argon2id$")
    assert check_password(session, email="LI.NA@example.org ", password=PASSWORD) is person
    assert check_password(session, email="li.na@example.org", password="wrong password") is None
    assert check_password(session, email="nobody@example.org", password=PASSWORD) is None


def test_the_same_email_in_another_case_is_refused(session: Session, clock: FrozenClock) -> None:
    _add(session, clock)
    with pytest.raises(Conflict, match="already exists"):
        _add(session, clock, email="LI.NA@EXAMPLE.ORG")
    assert session.scalar(select(func.count()).select_from(Person)) == 1


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("name", {"name": "  "}),
        ("email", {"email": "not-an-address"}),
        ("language", {"language": "fr"}),
        ("timezone", {"timezone": "Mars/Base"}),
        ("password", {"password": "short"}),
    ],
)
def test_bad_fields_are_named_and_nothing_is_written(
    session: Session, clock: FrozenClock, field: str, changes: dict[str, str]
) -> None:
    values = {"name": "Wang Wei", "email": "wang@example.org", "password": PASSWORD}
    values.update(changes)
    with pytest.raises(InvalidInput) as caught:
        add_person(
            session,
            name=values["name"],
            email=values["email"],
            password=values["password"],
            role=Role.VIEWER,
            language=changes.get("language"),
            timezone=changes.get("timezone"),
            now=clock.now(),
        )
    assert caught.value.field == field
    assert list_people(session) == []


def test_a_disabled_person_cannot_sign_in(session: Session, clock: FrozenClock) -> None:
    person = _add(session, clock)
    disable_person(session, email="li.na@example.org", now=clock.now())
    assert person.disabled
    assert check_password(session, email="li.na@example.org", password=PASSWORD) is None
    with pytest.raises(Conflict, match="already disabled"):
        disable_person(session, email="li.na@example.org", now=clock.now())
    with pytest.raises(NotFound, match=r"nobody@example\.org"):
        disable_person(session, email="nobody@example.org", now=clock.now())


def test_a_reset_password_replaces_the_old_one(session: Session, clock: FrozenClock) -> None:
    _add(session, clock)
    reset_password(session, email="li.na@example.org", password="a new passphrase", now=clock.now())
    assert check_password(session, email="li.na@example.org", password=PASSWORD) is None
    assert check_password(session, email="li.na@example.org", password="a new passphrase")


def test_a_weak_hash_is_replaced_at_sign_in(session: Session, clock: FrozenClock) -> None:
    from argon2 import PasswordHasher

    person = _add(session, clock)
    person.password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(
        PASSWORD
    )
    session.flush()
    assert check_password(session, email="li.na@example.org", password=PASSWORD) is person
    assert not needs_rehash(person.password_hash)


def test_the_language_is_one_of_the_translations(session: Session, clock: FrozenClock) -> None:
    person = _add(session, clock)
    set_language(session, person=person, language="zh_CN", now=clock.now(), actor=OPERATOR)
    assert find_person(session, email="li.na@example.org") is person
    assert person.language == "zh_CN"
    with pytest.raises(InvalidInput, match="zh_CN, en"):
        set_language(session, person=person, language="de", now=clock.now(), actor=OPERATOR)
