"""Connecting accounts by each platform's authorisation flow, token health, disabling and
removing accounts."""
