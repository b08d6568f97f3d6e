"""A one-endpoint platform that exercises the shared simulator harness."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from simulators.control import control_router
from simulators.harness import DropConnection, Fault, GrowthModel, Simulation


def new_simulation(*, seed: int = 1) -> Simulation:
    def provision(sim: Simulation, account: Any) -> dict[str, Any]:
        grant = sim.tokens.issue(account.account_id, lifetime=3600, refresh_lifetime=86400)
        return {"access_token": grant.access_token, "refresh_token": grant.refresh_token}

    growth = GrowthModel(audience_median=1000, tau_seconds=60, rates={"likes": 0.1})
    return Simulation("toy", seed=seed, growth=growth, provision=provision)


def create_app(sim: Simulation) -> FastAPI:
    app = FastAPI()
    app.include_router(control_router(sim))

    @app.post("/posts")
    async def create(request: Request) -> Response:
        fault = await sim.gate(creates=True)
        if fault is Fault.SERVER_ERROR:
            return JSONResponse({"error": "busy"}, status_code=503)
        if fault is Fault.RATE_LIMITED:
            return JSONResponse({"error": "slow down"}, status_code=429)
        body = await request.json()
        account_id = sim.tokens.check(request.headers["authorization"][7:]).account_id
        post = sim.record_post(account_id, body["text"])
        if fault is Fault.DROP_AFTER_COMMIT:
            return DropConnection()
        return JSONResponse({"id": post.remote_id})

    return app
