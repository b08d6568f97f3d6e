"""A bad setting is reported by its variable name, and never echoes a URL or a secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from publicist.core.settings import InvalidSettings, Settings


def _error(**values: object) -> InvalidSettings:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)  # type: ignore[arg-type]
    return InvalidSettings(caught.value)


def test_every_bad_setting_is_named_at_once() -> None:
    message = str(_error(dispatch_tick_seconds=0, publish_max_attempts=0))
    assert message.startswith("invalid setting ")
    assert "PUBLICIST_DISPATCH_TICK_SECONDS: Input should be greater than 0 (got 0)" in message
    assert "PUBLICIST_PUBLISH_MAX_ATTEMPTS" in message


def test_urls_and_secrets_are_not_echoed() -> None:
    message = str(_error(database_url=20211026, broker_url=1234567))
    assert "PUBLICIST_DATABASE_URL" in message
    assert "PUBLICIST_BROKER_URL" in message
    assert "20211026" not in message
    assert "1234567" not in message


def test_a_cadence_setting_is_checked_when_settings_load() -> None:
    message = str(_error(collection_cadence="1d:1h,1h:5m"))
    assert "PUBLICIST_COLLECTION_CADENCE: must list ages in increasing order" in message


def test_a_lease_too_short_for_the_creation_margin_is_refused() -> None:
    message = str(_error(publish_lease_seconds=100))
    assert message == (
        "invalid setting PUBLICIST_PUBLISH_LEASE_SECONDS: must be at least twice "
        "PUBLICIST_PUBLISH_CREATION_MARGIN_SECONDS (140 s): a post may be created only until "
        "one margin before the lease ends (got 100)"
    )
    short = Settings(publish_lease_seconds=6, publish_creation_margin_seconds=3)
    assert short.publish_lease_seconds == 6


def test_the_media_fetch_allow_list_is_parsed_when_settings_load() -> None:
    message = str(_error(media_fetch_allow="127.0.0.1/32, localhost"))
    assert (
        "PUBLICIST_MEDIA_FETCH_ALLOW: 'localhost' is not a network such as 127.0.0.1/32" in message
    )
    allowed = Settings(media_fetch_allow="127.0.0.1/32, ::1")
    assert [str(n) for n in allowed.media_fetch_networks] == ["127.0.0.1/32", "::1/128"]
    assert Settings().media_fetch_networks == ()
