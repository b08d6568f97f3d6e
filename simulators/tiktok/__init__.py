"""TikTok simulator: OAuth v2 tokens, the Content Posting API's state machine, the Display API.

Paths, bodies and the ``{"data", "error": {"code", "message", "log_id"}}`` envelope follow
TikTok's documentation (trailing ``/`` included). Publishing is driven by the virtual clock:
an upload is processed for a few seconds, then ``PUBLISH_COMPLETE`` arrives with an empty
``publicaly_available_post_id`` (sic) until moderation is over. Every delay, cap and policy is
an account setting (``DEFAULTS``), so tests and the demo can shorten or stretch them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from simulators.control import control_router
from simulators.harness import DropConnection, GrowthModel, Simulation
from simulators.tiktok import auth, media, posts
from simulators.tiktok.state import TiktokPlatform
from simulators.tiktok.wire import DEFAULTS, PLATFORM, ApiError, OAuthError, _log_id, error_response

__all__ = ["DEFAULTS", "create_app", "new_simulation"]


def new_simulation(*, seed: int = 1) -> Simulation:
    # Modelling choices (research 6.2): views saturate over ~2 days; likes 5 %, comments 0.5 %,
    # shares 0.3 % of views.
    growth = GrowthModel(
        audience_median=20_000.0,
        tau_seconds=48 * 3600.0,
        rates={"likes": 0.05, "comments": 0.005, "shares": 0.003},
    )
    return Simulation(PLATFORM, seed=seed, growth=growth, provision=auth._provision)


def create_app(sim: Simulation) -> FastAPI:
    app = FastAPI(title="TikTok simulator", openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(control_router(sim))
    platform = TiktokPlatform(sim)

    async def run(request: Request, work: Callable[[], Awaitable[Response]]) -> Response:
        try:
            response = await work()
        except ApiError as exc:
            response = error_response(sim, exc)
        except OAuthError as exc:
            body = {
                "error": exc.error,
                "error_description": exc.description,
                "log_id": _log_id(sim),
            }
            response = JSONResponse(body, status_code=exc.status)
        label = "dropped" if isinstance(response, DropConnection) else str(response.status_code)
        sim.note(request.method, request.url.path, label)
        return response

    auth.register(app, sim, platform, run)
    posts.register(app, sim, platform, run)
    media.register(app, sim, platform, run)
    return app
