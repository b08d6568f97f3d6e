"""The ``publicist`` command line."""

from publicist.cli.main import main

__all__ = ["main"]
