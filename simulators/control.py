"""The control plane under ``/__sim``: clock, accounts, faults, engagement, inspection.

Kept apart from the platform paths so a connector pointed at a simulator sees only the
platform's own API. :class:`SimulatorControl` is the matching client for tests, the demo and
the benchmarks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from simulators.harness import Simulation

CONTROL_PREFIX = "/__sim"


class AccountIn(BaseModel):
    handle: str
    followers: int = 10_000
    verified: bool = True
    settings: dict[str, Any] = {}


class ClockIn(BaseModel):
    advance_seconds: float | None = None
    speed: float | None = None
    set_to: datetime | None = None


class FreezeIn(BaseModel):
    at: datetime | None = None
    now: bool = False


def control_router(sim: Simulation) -> APIRouter:
    router = APIRouter(prefix=CONTROL_PREFIX, tags=["simulator control"])

    @router.post("/reset")
    def reset(seed: int | None = None) -> dict[str, Any]:
        sim.reset(seed=seed)
        return {"platform": sim.platform, "seed": sim.seed}

    @router.get("/clock")
    def get_clock() -> dict[str, Any]:
        return {"now": sim.clock.now().isoformat(), "speed": sim.clock.speed}

    @router.post("/clock")
    def set_clock(body: ClockIn) -> dict[str, Any]:
        try:
            if body.set_to is not None:
                if body.set_to.tzinfo is None:
                    raise ValueError("set_to must carry a time zone offset")
                sim.clock.set(body.set_to)
            if body.advance_seconds is not None:
                sim.clock.advance(body.advance_seconds)
            if body.speed is not None:
                sim.clock.set_speed(body.speed)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        return get_clock()

    @router.post("/accounts")
    def add_account(body: AccountIn) -> dict[str, Any]:
        _, credentials = sim.add_account(
            body.handle, followers=body.followers, verified=body.verified, **body.settings
        )
        return credentials

    @router.post("/tokens/expire")
    def expire_tokens(account_id: str | None = None) -> dict[str, Any]:
        return {"expired": sim.tokens.expire(account_id)}

    @router.get("/faults")
    def get_faults() -> dict[str, Any]:
        return {**sim.faults.describe(), "held": sim.held}

    @router.post("/faults")
    def set_faults(body: dict[str, Any]) -> dict[str, Any]:
        hold = body.pop("hold_creates", None)
        try:
            sim.faults.update(body)
        except (ValueError, TypeError) as exc:
            raise HTTPException(400, str(exc)) from exc
        if hold is not None:
            sim.hold(bool(hold))
        return get_faults()

    @router.delete("/faults")
    def clear_faults() -> dict[str, Any]:
        sim.hold(False)
        sim.faults.update({k: type(v)() for k, v in sim.faults.describe().items()})
        return get_faults()

    @router.post("/release")
    def release() -> dict[str, Any]:
        held = sim.held
        sim.release_held()
        return {"released": held}

    @router.get("/engagement")
    def get_engagement() -> dict[str, Any]:
        return sim.growth.describe()

    @router.post("/engagement")
    def set_engagement(body: dict[str, Any]) -> dict[str, Any]:
        try:
            sim.growth.update(body)
        except (ValueError, TypeError) as exc:
            raise HTTPException(400, str(exc)) from exc
        return sim.growth.describe()

    @router.post("/freeze")
    def freeze(body: FreezeIn) -> dict[str, Any]:
        moment = sim.clock.now() if body.now else body.at
        sim.freeze_engagement(moment)
        return {"frozen_at": moment.isoformat() if moment else None}

    @router.get("/posts")
    def posts(account_id: str | None = None) -> list[dict[str, Any]]:
        return [
            {
                "remote_id": p.remote_id,
                "account_id": p.account_id,
                "text": p.text,
                "fingerprint": p.fingerprint,
                "url": p.url,
                "created_at": p.created_at.isoformat(),
                "deleted": p.deleted,
            }
            for p in sim.live_posts(account_id)
        ]

    @router.post("/posts/{remote_id}/delete")
    def delete_post(remote_id: str) -> dict[str, Any]:
        post = sim.posts.get(remote_id)
        if post is None:
            raise HTTPException(404, f"no post {remote_id}")
        post.deleted = True
        return {"deleted": remote_id}

    @router.get("/counts")
    def counts() -> dict[str, int]:
        return sim.counts_by_key()

    @router.get("/truth")
    def truth(account_id: str | None = None) -> dict[str, Any]:
        return sim.truth(account_id)

    @router.get("/calls")
    def calls(limit: int = 200) -> list[dict[str, Any]]:
        return [
            {"at": c.at.isoformat(), "method": c.method, "path": c.path, "status": c.status}
            for c in sim.calls[-limit:]
        ]

    return router


class SimulatorControl:
    """Client for one simulator's control plane (``base_url`` is the platform's base URL)."""

    def __init__(self, base_url: str, *, client: httpx.Client | None = None) -> None:
        self._http = client or httpx.Client(timeout=30.0)
        self._base = base_url.rstrip("/") + CONTROL_PREFIX

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, self._base + path, **kwargs)
        response.raise_for_status()
        return response.json()

    def reset(self, seed: int | None = None) -> None:
        self._call("POST", "/reset", params={"seed": seed} if seed is not None else None)

    def now(self) -> datetime:
        return datetime.fromisoformat(self._call("GET", "/clock")["now"])

    def clock(
        self,
        *,
        advance_seconds: float | None = None,
        speed: float | None = None,
        set_to: datetime | None = None,
    ) -> datetime:
        body = {
            "advance_seconds": advance_seconds,
            "speed": speed,
            "set_to": set_to.isoformat() if set_to else None,
        }
        return datetime.fromisoformat(self._call("POST", "/clock", json=body)["now"])

    def add_account(
        self, handle: str, *, followers: int = 10_000, verified: bool = True, **settings: Any
    ) -> dict[str, Any]:
        body = {"handle": handle, "followers": followers, "verified": verified}
        result: dict[str, Any] = self._call(
            "POST", "/accounts", json={**body, "settings": settings}
        )
        return result

    def expire_tokens(self, account_id: str | None = None) -> int:
        params = {"account_id": account_id} if account_id else None
        return int(self._call("POST", "/tokens/expire", params=params)["expired"])

    def faults(self, **knobs: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/faults", json=knobs)
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def held(self) -> int:
        return int(self._call("GET", "/faults")["held"])

    def release(self) -> int:
        return int(self._call("POST", "/release")["released"])

    def engagement(self, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/engagement", json=params)
        return result

    def freeze(self, *, at: datetime | None = None, now: bool = False) -> datetime | None:
        body = {"at": at.isoformat() if at else None, "now": now}
        value = self._call("POST", "/freeze", json=body)["frozen_at"]
        return datetime.fromisoformat(value) if value else None

    def posts(self, account_id: str | None = None) -> list[dict[str, Any]]:
        params = {"account_id": account_id} if account_id else None
        result: list[dict[str, Any]] = self._call("GET", "/posts", params=params)
        return result

    def delete_post(self, remote_id: str) -> None:
        self._call("POST", f"/posts/{remote_id}/delete")

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = self._call("GET", "/counts")
        return result

    def truth(self, account_id: str | None = None) -> dict[str, Any]:
        params = {"account_id": account_id} if account_id else None
        result: dict[str, Any] = self._call("GET", "/truth", params=params)
        return result

    def calls(self, limit: int = 200) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/calls", params={"limit": limit})
        return result
