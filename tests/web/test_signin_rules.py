"""The rules under sign-in, tested directly: throttling windows, sessions, CSRF comparison."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from campaigns.people.roles import Role
from campaigns.people.services import add_person, disable_person
from publicist.core.clock import FrozenClock
from publicist.web import throttle
from publicist.web.websessions import (
    LIFETIME,
    end_session,
    find_session,
    start_session,
    tokens_match,
)

ADDRESS = "192.0.2.7"


def _fail(
    session: Session, clock: FrozenClock, email: str, times: int, address: str = ADDRESS
) -> None:
    for _ in range(times):
        throttle.record_failure(session, email=email, address=address, now=clock.now())
        clock.advance(timedelta(seconds=10))


def test_an_email_waits_after_its_fifth_failure_until_the_first_leaves_the_window(
    session: Session, clock: FrozenClock
) -> None:
    first = clock.now()
    _fail(session, clock, "a@example.org", throttle.PER_EMAIL - 1)
    assert (
        throttle.retry_at(session, email="a@example.org", address=ADDRESS, now=clock.now()) is None
    )
    _fail(session, clock, "a@example.org", 1)
    wait = throttle.retry_at(session, email="a@example.org", address=ADDRESS, now=clock.now())
    assert wait == first + throttle.WINDOW
    # Other e-mails from other addresses are not affected.
    assert (
        throttle.retry_at(session, email="b@example.org", address="198.51.100.1", now=clock.now())
        is None
    )
    clock.set(first + throttle.WINDOW)
    assert (
        throttle.retry_at(session, email="a@example.org", address=ADDRESS, now=clock.now()) is None
    )


def test_an_address_waits_after_many_failures_across_emails(
    session: Session, clock: FrozenClock
) -> None:
    for index in range(throttle.PER_ADDRESS):
        _fail(session, clock, f"guess{index}@example.org", 1)
    wait = throttle.retry_at(session, email="new@example.org", address=ADDRESS, now=clock.now())
    assert wait is not None
    assert (
        throttle.retry_at(session, email="new@example.org", address="198.51.100.1", now=clock.now())
        is None
    )


def test_a_success_clears_the_emails_failures_only(session: Session, clock: FrozenClock) -> None:
    _fail(session, clock, "a@example.org", throttle.PER_EMAIL)
    throttle.clear_failures(session, email="a@example.org")
    assert (
        throttle.retry_at(session, email="a@example.org", address=ADDRESS, now=clock.now()) is None
    )


def test_a_session_lives_while_used_and_ends_on_sign_out_or_disable(
    session: Session, clock: FrozenClock
) -> None:
    person = add_person(
        session, name="A", email="a@example.org", role=Role.EDITOR,
        password="correct horse battery", now=clock.now(),
    )  # fmt: skip
    secret, row = start_session(session, person=person, now=clock.now())
    assert secret not in (row.secret_hash, row.csrf_token)
    assert find_session(session, secret=secret, now=clock.now()) is row
    assert find_session(session, secret=secret + "x", now=clock.now()) is None
    assert find_session(session, secret=None, now=clock.now()) is None
    clock.advance(LIFETIME + timedelta(seconds=1))
    assert find_session(session, secret=secret, now=clock.now()) is None

    secret, row = start_session(session, person=person, now=clock.now())
    end_session(session, row=row)
    assert find_session(session, secret=secret, now=clock.now()) is None

    secret, _ = start_session(session, person=person, now=clock.now())
    disable_person(session, email="a@example.org", now=clock.now())
    assert find_session(session, secret=secret, now=clock.now()) is None


def test_csrf_tokens_match_only_when_both_are_present_and_equal() -> None:
    assert tokens_match("abc", "abc")
    assert not tokens_match("abc", "abd")
    assert not tokens_match("abc", None)
    assert not tokens_match(None, None)
    assert not tokens_match("", "")
