"""Publicist: plan publicity campaigns, publish on time and exactly once, report engagement."""

__version__ = "0.1.0"
