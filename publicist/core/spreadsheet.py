"""Spreadsheet cells that cannot run as formulas: the one rule every CSV and XLSX export uses.

A spreadsheet reads a cell beginning with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return, which some strip before looking) as a formula, so a campaign named
``=HYPERLINK(...)`` would run in the reader's spreadsheet. As OWASP recommends
(https://owasp.org/www-community/attacks/CSV_Injection), such text gets a leading single
quote. Numbers stay numbers: only text is ever changed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeAlias

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell: TypeAlias = str | int | float | bool | date | datetime | None


def neutralise(value: Cell) -> Cell:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
