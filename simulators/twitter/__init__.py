"""A local X API v2: the real paths, shapes, auth, limits and errors, on a virtual clock.

Speaks what the connector meets in production (research section 1 and 6.3): OAuth 2.0 user
tokens that expire after ``expires_in`` and refresh with a rotating refresh token; posts
weighed by twitter-text v3 and refused as duplicates (403) within a window; chunked media
upload with GIF/video processing that advances with the virtual clock; ``GET /2/tweets``
with ``public_metrics`` from the seeded growth model and ``errors[]`` for missing ids; the
user timeline for reconciliation; RFC 7807 problem bodies; ``x-rate-limit-*`` headers on
every response and 429 when a window is spent. Behaviour the research marks unverified is
set per account (``settings``) with the default given in ``DEFAULTS``.
"""

from __future__ import annotations

from fastapi import FastAPI

from simulators.control import control_router
from simulators.harness import GrowthModel, Simulation
from simulators.twitter import media, oauth, posts
from simulators.twitter.posts import PUBLIC_METRICS
from simulators.twitter.wire import DEFAULTS, PLATFORM, XSimulator

__all__ = ["DEFAULTS", "PUBLIC_METRICS", "create_app", "new_simulation"]


def new_simulation(*, seed: int = 1) -> Simulation:
    """X with engagement calibrated so 80 posts reach about 2 M impressions, 88 k interactions.

    Rates are modelling choices (interactions about 4.4 % of impressions), not X facts;
    they are named as X names the counters, so ``sim.truth()`` totals are ``views`` (the
    impressions) plus ``like_count``, ``retweet_count``, ``reply_count``, ``quote_count`` and
    ``bookmark_count``.
    """
    growth = GrowthModel(
        audience_median=25_000.0,
        audience_sigma=0.35,
        tau_seconds=6 * 3600.0,
        lag_seconds=60.0,
        rates={
            "like_count": 0.026,
            "retweet_count": 0.007,
            "reply_count": 0.004,
            "quote_count": 0.002,
            "bookmark_count": 0.005,
        },
    )
    return Simulation(PLATFORM, seed=seed, growth=growth, provision=oauth.provision)


def create_app(sim: Simulation) -> FastAPI:
    app = FastAPI(title="X API v2 simulator", openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(control_router(sim))
    x = XSimulator(sim)
    oauth.register(app, x)
    posts.register(app, x)
    media.register(app, x)
    return app
