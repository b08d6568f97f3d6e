"""Douyin simulator: OAuth with renewable refresh tokens, uploads, review before a post is
public, the author's video list and batched video data, on a virtual clock.

Paths, bodies and envelopes follow the open platform's documentation (docs/platforms/douyin.md):
errors travel inside HTTP 200 as ``data.error_code``; throttling is error code 28003018 and an
exhausted daily quota 28003017. Review delay and outcome, quotas and token lifetimes are account
settings (``DEFAULTS``), so tests and the demo can shorten or stretch them.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response

from simulators.control import control_router
from simulators.douyin import auth, media, posts
from simulators.douyin.wire import DEFAULTS, PLATFORM, DouyinError, error
from simulators.harness import DropConnection, GrowthModel, Simulation

__all__ = ["DEFAULTS", "create_app", "new_simulation"]


def new_simulation(*, seed: int = 1) -> Simulation:
    """Douyin with engagement named as its ``statistics`` are (modelling choices, not facts).

    Every modelled counter is an interaction, so ``sim.truth()`` totals compare with reports;
    ``download_count`` (not an interaction) is sent as 0.
    """
    growth = GrowthModel(
        audience_median=30_000.0,
        tau_seconds=36 * 3600.0,
        rates={
            "digg_count": 0.04,
            "comment_count": 0.004,
            "share_count": 0.003,
            "forward_count": 0.002,
        },
    )
    return Simulation(PLATFORM, seed=seed, growth=growth, provision=auth.provision)


def create_app(sim: Simulation) -> FastAPI:
    app = FastAPI(title="Douyin simulator", openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(control_router(sim))

    async def run(request: Request, work: media.Work) -> Response:
        try:
            response = await work()
        except DouyinError as exc:
            response = error(sim, exc)
        label = "dropped" if isinstance(response, DropConnection) else str(response.status_code)
        sim.note(request.method, request.url.path, label)
        return response

    auth.register(app, sim)
    media.register(app, sim, run)
    posts.register(app, sim, run)
    return app
