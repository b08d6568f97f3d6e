"""The application factory: routes, error handling, the per-request unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker

from publicist import __version__
from publicist.core.clock import Clock, system_clock
from publicist.core.database import get_engine, session_factory
from publicist.core.settings import Settings, get_settings
from publicist.web import errors, heap, openapi
from publicist.web.body_limit import PublicistAPI
from publicist.web.reading import read_sessions
from publicist.web.routers import (
    accounts,
    calendar,
    campaign_pages,
    campaigns,
    composer,
    connect,
    dashboard,
    deliveries,
    docs,
    health,
    inbox,
    media,
    notifications,
    post_page,
    posts,
    reports,
    reports_page,
    series_page,
    signin,
    tokens,
)

STATIC_DIR = Path(__file__).parent / "static"
"""Publicist's own files and vendored upstream ones (``static/vendor/``), served at /static."""

MAX_BODY_BYTES = 6 * 1024 * 1024
"""Every request body; above the largest CSV import (5 MiB)."""

DESCRIPTION = """
Staff endpoints (accounts, campaigns, posts, CSV import) and read-only dashboard endpoints
(campaign totals, per platform, per day, top posts, failures, whole-account view).

Authenticate with `Authorization: Bearer <token>`; create tokens with
`publicist token create --role viewer|editor|approver|admin [--owner EMAIL]`. A **viewer**
reads reports, posts and media, an **editor** also writes and submits drafts, an **approver**
also approves, rejects, schedules, reschedules, cancels and retries, an **admin** also connects
accounts, manages people and tokens and reads the whole audit log. A token owned by a
person never has more rights than they have now.
Errors are JSON: `{"error": {"type", "message", "field", "value", "rule"}}`.
"""


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    heap.settle()  # before the first request: see publicist.web.heap
    yield


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    sessions: sessionmaker[Session] | None = None,
) -> FastAPI:
    """Build the API and the dashboard page.

    ``sessions`` replaces the database sessions (tests bind them to a transaction they roll
    back); by default they come from ``settings.database_url``.
    """
    settings = settings or get_settings()
    app = PublicistAPI(
        title="Publicist",
        version=__version__,
        description=DESCRIPTION,
        max_body_size=MAX_BODY_BYTES,
        docs_url=None,  # served by routers.docs from static/, not from a CDN
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock or system_clock
    app.state.session_factory = sessions or session_factory(get_engine(settings.database_url))
    app.state.read_sessions = read_sessions(app.state.session_factory)
    errors.install(app)
    for module in (
        health,
        accounts,
        campaigns,
        posts,
        media,
        reports,
        tokens,
        dashboard,
        calendar,
        campaign_pages,
        composer,  # before post_page: /posts/new and /posts/{id}/edit are the composer's
        post_page,
        notifications,
        inbox,
        deliveries,
        series_page,
        reports_page,
        connect,
        signin,
        docs,
    ):
        app.include_router(module.router)
    # The workspace's stylesheet and vendored assets (htmx, Swagger UI), served by Publicist.
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    openapi.install(app)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/dashboard", status_code=303)

    return app
