"""Zone names: IANA's list as the tzdata package ships it, never a host-only file."""

from __future__ import annotations

import zoneinfo

import pytest
from pydantic import ValidationError

from publicist.core.settings import InvalidSettings, Settings
from publicist.core.zones import canonical_zone_names, is_canonical_zone


def test_the_list_holds_zones_and_backward_links_but_not_factory() -> None:
    names = canonical_zone_names()
    assert {"Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC", "US/Eastern"} <= names
    assert "Factory" not in names
    assert not any(name.startswith(("posix/", "right/")) for name in names)


def test_every_listed_name_loads() -> None:
    for name in canonical_zone_names():
        zoneinfo.ZoneInfo(name)


@pytest.mark.parametrize("name", ["localtime", "posix/Europe/Berlin", "right/UTC", "Factory"])
def test_host_only_names_are_not_canonical(name: str) -> None:
    assert not is_canonical_zone(name)


def test_the_default_zone_setting_refuses_a_host_only_name() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(default_timezone="localtime")
    message = str(InvalidSettings(caught.value))
    assert "PUBLICIST_DEFAULT_TIMEZONE: 'localtime' is not an IANA time zone name" in message
