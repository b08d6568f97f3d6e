"""Alembic migrations, shipped inside the package so an installed ``publicist db upgrade`` works."""
