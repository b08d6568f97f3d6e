"""The bottom layer: settings, database, clock, errors and telemetry shared by every package."""
