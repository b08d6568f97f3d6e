"""The HTTP API and the dashboard page (FastAPI); ``create_app`` builds the application."""
