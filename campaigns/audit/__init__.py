"""The audit log: who changed what and when, append-only (the database refuses the rest)."""
