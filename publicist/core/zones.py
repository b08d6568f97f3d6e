"""Which time zone names Publicist accepts: IANA's own list, the same on every host."""

from __future__ import annotations

import functools
from importlib.resources import files

HOST_ONLY_NAMES = frozenset({"Factory"})
"""In IANA's list but not a place: 'Factory' marks an unset clock ("-00")."""


@functools.cache
def canonical_zone_names() -> frozenset[str]:
    """Every name in the IANA database as shipped by the ``tzdata`` package: the zones of
    ``zone1970.tab`` and the backward links kept for old names (``UTC``, ``US/Eastern``,
    ``Asia/Calcutta``), without ``Factory``.

    ``zoneinfo`` alone would also accept whatever files the host's zoneinfo folder holds
    (``localtime``, ``posix/...``, ``right/...``), so a campaign could mean different zones on
    two machines, or a leap-second zone whose clock runs 27 s apart from everyone else's.
    """
    listed = files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return frozenset(listed) - HOST_ONLY_NAMES


def is_canonical_zone(name: str) -> bool:
    return name in canonical_zone_names()
