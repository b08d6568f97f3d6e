"""The Celery app, its beat schedule, and thin task wrappers around the services."""
