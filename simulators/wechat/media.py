"""WeChat material: permanent images and covers (``add_material``) and inline images
(``uploadimg``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from simulators.harness import (
    SimAccount,
    Simulation,
)
from simulators.wechat.wire import (
    MB,
    Serve,
    _token,
    _upload,
    error,
    setting,
    sniff,
)


def register(app: FastAPI, sim: Simulation, serve: Serve) -> None:
    # material ----------------------------------------------------------------------------
    @app.post("/cgi-bin/material/add_material")
    async def add_material(request: Request, type: str = "") -> Response:
        uploaded = await _upload(request)

        async def handle(account: SimAccount) -> Response | dict[str, Any]:
            if type not in ("image", "thumb"):
                return error(sim, 40004, "invalid media type")
            if uploaded is None:
                return error(sim, 41005, "media data missing")
            fmt = sniff(uploaded)
            allowed = {"image": {"bmp", "png", "jpeg", "gif"}, "thumb": {"jpeg"}}[type]
            if fmt not in allowed:
                return error(sim, 40005, "invalid file type")
            limit = int(setting(sim, account, "image_limit")) if type == "image" else 64 * 1024
            if len(uploaded) > limit:
                return error(sim, 40009 if type == "image" else 40006, "invalid media size")
            media_id = _token(sim, "material")[:43]
            url = f"http://mmbiz.qpic.cn/mmbiz_{fmt}/{media_id[:32]}/0?wx_fmt={fmt}"
            sim.objects[f"material:{media_id}"] = {
                "kind": "material",
                "type": type,
                "account_id": account.account_id,
                "url": url,
                "size": len(uploaded),
            }
            return {"media_id": media_id, "url": url} if type == "image" else {"media_id": media_id}

        return await serve(request, "/cgi-bin/material/add_material", handle)

    @app.post("/cgi-bin/media/uploadimg")
    async def upload_image(request: Request) -> Response:
        uploaded = await _upload(request)

        async def handle(account: SimAccount) -> Response | dict[str, Any]:
            if uploaded is None:
                return error(sim, 41005, "media data missing")
            fmt = sniff(uploaded)
            if fmt not in ("jpeg", "png"):
                return error(sim, 40005, "invalid file type")
            if len(uploaded) >= MB:
                return error(sim, 40009, "invalid image size")
            url = f"http://mmbiz.qpic.cn/mmbiz_{fmt}/{_token(sim, 'img')[:40]}/0?wx_fmt={fmt}"
            sim.objects[f"inline:{url}"] = {"kind": "inline", "account_id": account.account_id}
            return {"url": url}

        return await serve(request, "/cgi-bin/media/uploadimg", handle)
