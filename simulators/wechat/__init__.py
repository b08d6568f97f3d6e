"""WeChat Official Account simulator: tokens, material, drafts, free publish, datacube.

Speaks WeChat's wire format: ``access_token`` as a query parameter, JSON bodies sent as real
UTF-8, multipart ``media`` uploads, and every answer HTTP 200, failures as
``{"errcode": N, "errmsg": "<text> rid: <id>"}``. A publish job stays ``publish_status`` 1
for ``publish_delay_seconds`` of virtual time, then becomes an article (or a failure), and
the datacube reports it from the next Beijing day on (T+1, final after 08:00).

Behaviour the documentation leaves open is configurable: per account through the settings
given to ``/__sim/accounts``, or for every account through ``/__sim/wechat/settings``
(see ``DEFAULTS``). ``/__sim/wechat/inject`` queues an errcode (or a cut connection after the
work is done) for a path; ``/__sim/wechat/articles/{id}/block`` blocks a published article.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from simulators.control import CONTROL_PREFIX, control_router
from simulators.harness import (
    DropConnection,
    Fault,
    Simulation,
)
from simulators.wechat import auth, media, posts
from simulators.wechat.auth import (
    _account_for,
    provision,
)
from simulators.wechat.posts import (
    _article_posts,
    settle,
)
from simulators.wechat.wire import (
    DEFAULTS,
    GROWTH,
    MINUTE_QUOTA_TEXT,
    PLATFORM,
    Handler,
    _errcode,
    _knobs,
    _of_kind,
    _quota,
    _take_injection,
    error,
)

__all__ = ["DEFAULTS", "create_app", "new_simulation"]


def new_simulation(*, seed: int = 1) -> Simulation:
    return Simulation(PLATFORM, seed=seed, growth=GROWTH, provision=provision)


# -- the app ------------------------------------------------------------------------------------
class _Settling:
    """Finish due publish jobs before any request, the control plane's included."""

    def __init__(self, app: ASGIApp, sim: Simulation) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            settle(self.sim)
        await self.app(scope, receive, send)


def create_app(sim: Simulation) -> FastAPI:
    app = FastAPI(title="WeChat Official Account simulator")
    app.include_router(control_router(sim))
    app.include_router(_wechat_control(sim))
    app.add_middleware(_Settling, sim=sim)

    async def serve(
        request: Request, path: str, handler: Handler, *, creates: bool = False
    ) -> Response:
        """Faults, token, quotas and injected errors first; then the endpoint's own work."""
        response = await _answer(request, path, handler, creates=creates)
        code = "drop" if isinstance(response, DropConnection) else _errcode(response)
        sim.note(request.method, path, code)
        return response

    async def _answer(request: Request, path: str, handler: Handler, *, creates: bool) -> Response:
        fault = await sim.gate(creates=creates)
        settle(sim)
        if fault is Fault.SERVER_ERROR:
            return error(sim, -1, "system error")
        if fault is Fault.RATE_LIMITED:
            return error(sim, 45011, MINUTE_QUOTA_TEXT)
        account = _account_for(sim, request)
        if isinstance(account, Response):
            return account
        refused = _quota(sim, account, path)
        if refused is not None:
            return refused
        injected = _take_injection(sim, path, drop=False)
        if injected is not None:
            return error(sim, int(injected["errcode"]), str(injected["errmsg"]))
        result = await handler(account)
        if isinstance(result, Response):
            return result
        if fault is Fault.DROP_AFTER_COMMIT or _take_injection(sim, path, drop=True):
            return DropConnection()  # the work is done; the answer never arrives
        return JSONResponse(result)

    auth.register(app, sim, serve)
    media.register(app, sim, serve)
    posts.register(app, sim, serve)
    return app


def _wechat_control(sim: Simulation) -> APIRouter:
    router = APIRouter(prefix=f"{CONTROL_PREFIX}/wechat", tags=["simulator control"])

    @router.get("/settings")
    def get_settings() -> dict[str, Any]:
        return dict(_knobs(sim))

    @router.post("/settings")
    def set_settings(body: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(body) - set(DEFAULTS))
        if unknown:
            raise HTTPException(400, f"unknown settings: {', '.join(unknown)}")
        _knobs(sim).update(body)
        return dict(_knobs(sim))

    @router.post("/inject")
    def inject(body: dict[str, Any]) -> dict[str, Any]:
        if "path" not in body or ("errcode" not in body and not body.get("drop")):
            raise HTTPException(400, "give a path and an errcode (or drop: true)")
        entry = {
            "path": str(body["path"]),
            "errcode": int(body.get("errcode", 0)),
            "errmsg": str(body.get("errmsg", "injected")),
            "drop": bool(body.get("drop", False)),
            "times": int(body.get("times", 1)),
        }
        sim.objects.setdefault("wechat:inject", {"items": []})["items"].append(entry)
        return entry

    @router.get("/jobs")
    def jobs() -> list[dict[str, Any]]:
        return [
            {
                "publish_id": j["publish_id"],
                "msg_data_id": j["msg_data_id"],
                "account_id": j["account_id"],
                "status": j["status"],
                "article_id": j["article_id"],
            }
            for j in _of_kind(sim, "job")
        ]

    @router.get("/drafts")
    def drafts() -> list[dict[str, Any]]:
        return [
            {
                "media_id": d["media_id"],
                "account_id": d["account_id"],
                "titles": [a["title"] for a in d["articles"]],
            }
            for d in _of_kind(sim, "draft")
        ]

    @router.post("/articles/{article_id}/block")
    def block(article_id: str) -> dict[str, Any]:
        article = sim.objects.get(f"article:{article_id}")
        if article is None:
            raise HTTPException(404, f"no article {article_id}")
        article["blocked"] = True
        for post in _article_posts(sim, article):
            post.deleted = True
        return {"blocked": article_id}

    return router
