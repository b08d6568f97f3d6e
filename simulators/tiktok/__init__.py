"""TikTok simulator: OAuth v2 tokens, the Content Posting API's state machine, the Display API.

Paths, bodies and the ``{"data", "error": {"code", "message", "log_id"}}`` envelope follow
TikTok's documentation (trailing ``/`` included). Publishing is driven by the virtual clock:
an upload is processed for a few seconds, then ``PUBLISH_COMPLETE`` arrives with an empty
``publicaly_available_post_id`` (sic) until moderation is over. Every delay, cap and policy is
an account setting (``DEFAULTS``), so tests and the demo can shorten or stretch them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from simulators.control import control_router
from simulators.harness import (
    DropConnection,
    Fault,
    Grant,
    GrowthModel,
    SimAccount,
    SimPost,
    Simulation,
    TokenError,
)

PLATFORM = "tiktok"
MB = 1024 * 1024
SCOPES = ("user.info.basic", "video.list", "video.publish", "video.upload")
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
PRIVATE = "SELF_ONLY"
PULL_SIZE = 8 * MB
"""What a pulled video is taken to weigh, for ``downloaded_bytes`` progress."""

DEFAULTS: dict[str, Any] = {
    "audited": True,  # unaudited clients may only post SELF_ONLY
    "privacy_level_options": None,  # None: all four when audited, else SELF_ONLY only
    "comment_disabled": False,
    "duet_disabled": False,
    "stitch_disabled": False,
    "max_video_post_duration_sec": 600,
    "processing_seconds": 2.0,  # plus 30 s per 512 MB uploaded, as TikTok's guide says
    "download_seconds": 2.0,  # PULL_FROM_URL
    "moderation_seconds": 3.0,  # public posts only; the post id is withheld meanwhile
    "fail_reason": None,  # e.g. "duration_check_failed": every publish ends FAILED
    "banned_words": [],  # captions containing one → spam_risk_text
    "daily_post_cap": 15,  # posts per 24 h → spam_risk_too_many_posts
    "verified_url_prefixes": ["https://media.publicist.example/"],
    "access_lifetime": 7200,  # Nov-2026 docs; older docs: 86400
    "refresh_lifetime": 15_552_000,  # 180 days; older docs: 31536000
    "rotate_refresh": True,
    "scopes": list(SCOPES),
    "list_private": False,  # video/list shows public videos only
    "max_video_bytes": 4 * 1024 * MB,
}

INIT_LIMIT = 6  # per user token per minute (video/init, inbox/video/init, content/init)
CREATOR_INFO_LIMIT = 20
STATUS_LIMIT = 30
DISPLAY_LIMIT = 600
MAX_PENDING_INBOX = 5

VIDEO_FIELDS = frozenset(
    [
        "id",
        "create_time",
        "cover_image_url",
        "share_url",
        "video_description",
        "duration",
        "height",
        "width",
        "title",
        "embed_html",
        "embed_link",
        "like_count",
        "comment_count",
        "share_count",
        "view_count",
    ]
)
USER_FIELDS = frozenset(
    [
        "open_id",
        "union_id",
        "avatar_url",
        "display_name",
        "bio_description",
        "profile_deep_link",
        "is_verified",
        "username",
        "follower_count",
        "following_count",
        "likes_count",
        "video_count",
    ]
)


class ApiError(Exception):
    """A TikTok error envelope to send back."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class OAuthError(Exception):
    """The OAuth endpoint's own error shape: ``{error, error_description, log_id}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def setting(account: SimAccount, key: str) -> Any:
    return account.settings.get(key, DEFAULTS[key])


def open_id(account: SimAccount) -> str:
    return f"-000{int(account.account_id):x}sim"


def _app_credentials(sim: Simulation) -> dict[str, Any]:
    """The one developer app every simulated account has authorised."""
    return sim.objects.setdefault(
        "app",
        {
            "client_key": f"sbaw{secrets.token_hex(6)}",
            "client_secret": secrets.token_urlsafe(24),
        },
    )


def _issue(sim: Simulation, account: SimAccount) -> Grant:
    return sim.tokens.issue(
        account.account_id,
        lifetime=float(setting(account, "access_lifetime")),
        refresh_lifetime=float(setting(account, "refresh_lifetime")),
        scopes=tuple(setting(account, "scopes")),
        prefix="act",
    )


def _provision(sim: Simulation, account: SimAccount) -> dict[str, Any]:
    grant = _issue(sim, account)
    app = _app_credentials(sim)
    code = f"code-{secrets.token_urlsafe(12)}"
    sim.objects[f"code:{code}"] = {"account_id": account.account_id, "used": False}
    assert grant.refresh_expires_at is not None
    return {
        "access_token": grant.access_token,
        "refresh_token": grant.refresh_token,
        "expires_at": grant.expires_at.isoformat(),
        "client_id": app["client_key"],
        "client_secret": app["client_secret"],
        "user_id": open_id(account),
        "extra": {
            "username": account.handle.lstrip("@"),
            "refresh_expires_at": grant.refresh_expires_at.isoformat(),
        },
        "authorization_code": code,
    }


def new_simulation(*, seed: int = 1) -> Simulation:
    # Modelling choices (research 6.2): views saturate over ~2 days; likes 5 %, comments 0.5 %,
    # shares 0.3 % of views.
    growth = GrowthModel(
        audience_median=20_000.0,
        tau_seconds=48 * 3600.0,
        rates={"likes": 0.05, "comments": 0.005, "shares": 0.003},
    )
    return Simulation(PLATFORM, seed=seed, growth=growth, provision=_provision)


def _log_id(sim: Simulation) -> str:
    return sim.clock.now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(9).upper()


def envelope(sim: Simulation, data: dict[str, Any], *, status: int = 200) -> JSONResponse:
    error = {"code": "ok", "message": "", "log_id": _log_id(sim)}
    return JSONResponse({"data": data, "error": error}, status_code=status)


def error_response(sim: Simulation, exc: ApiError) -> JSONResponse:
    error = {"code": exc.code, "message": exc.message, "log_id": _log_id(sim)}
    return JSONResponse({"data": {}, "error": error}, status_code=exc.status)


def invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_params", message)


def apply_fault(fault: Fault | None) -> None:
    """Raise the platform's own signal for a server error or a rate-limit burst."""
    if fault is Fault.SERVER_ERROR:
        raise ApiError(500, "internal_error", "Something went wrong. Please try again later.")
    if fault is Fault.RATE_LIMITED:
        raise ApiError(429, "rate_limit_exceeded", "API rate limit was exceeded.")


def privacy_options(account: SimAccount) -> list[str]:
    configured = setting(account, "privacy_level_options")
    if configured is not None:
        return [str(o) for o in configured]
    return list(PRIVACY_LEVELS) if setting(account, "audited") else [PRIVATE]


class TiktokPlatform:
    """The platform's behaviour over one :class:`Simulation` (the app's routes call into it)."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim

    # auth ---------------------------------------------------------------------------------------
    def authorise(self, request: Request, *scopes: str) -> tuple[Grant, SimAccount]:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        try:
            grant = self.sim.tokens.check(token)
        except TokenError as exc:
            raise ApiError(
                401,
                "access_token_invalid",
                f"The access token is invalid or not found in the request ({exc.reason}).",
            ) from exc
        if scopes and not any(scope in grant.scopes for scope in scopes):
            raise ApiError(
                401,
                "scope_not_authorized",
                f"The user did not authorize the scope required: {' or '.join(scopes)}.",
            )
        account = self.sim.accounts[grant.account_id]
        return grant, account

    def limit(self, grant: Grant, bucket: str, limit: int) -> None:
        allowed, _, _ = self.sim.limits.hit(
            f"{bucket}:{grant.access_token}", limit=limit, window_seconds=60
        )
        if not allowed:
            raise ApiError(429, "rate_limit_exceeded", "API rate limit was exceeded.")

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        app = _app_credentials(self.sim)
        if form.get("client_key") != app["client_key"]:
            raise OAuthError(401, "invalid_client", "Client key is invalid.")
        if form.get("client_secret") != app["client_secret"]:
            raise OAuthError(401, "invalid_client", "Client secret is invalid.")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            record = self.sim.objects.get(f"code:{form.get('code', '')}")
            if record is None or record["used"]:
                raise OAuthError(400, "invalid_grant", "Authorization code is expired.")
            record["used"] = True
            grant = _issue(self.sim, self.sim.accounts[record["account_id"]])
        elif grant_type == "refresh_token":
            refresh = form.get("refresh_token", "")
            current = self.sim.tokens.grant_for_refresh(refresh)
            if current is None:
                raise OAuthError(400, "invalid_grant", "Refresh token is invalid or expired.")
            account = self.sim.accounts[current.account_id]
            try:
                grant = self.sim.tokens.refresh(
                    refresh,
                    lifetime=float(setting(account, "access_lifetime")),
                    rotate=bool(setting(account, "rotate_refresh")),
                    refresh_lifetime=float(setting(account, "refresh_lifetime")),
                )
            except TokenError as exc:
                raise OAuthError(
                    400, "invalid_grant", "Refresh token is invalid or expired."
                ) from exc
        elif not grant_type:
            raise OAuthError(400, "invalid_request", "The request parameters are malformed.")
        else:
            raise OAuthError(400, "unsupported_grant_type", f"{grant_type} is not supported.")
        now = self.sim.clock.now()
        assert grant.refresh_expires_at is not None
        return {
            "access_token": grant.access_token,
            "expires_in": int((grant.expires_at - now).total_seconds()),
            "open_id": open_id(self.sim.accounts[grant.account_id]),
            "refresh_expires_in": int((grant.refresh_expires_at - now).total_seconds()),
            "refresh_token": grant.refresh_token,
            "scope": ",".join(grant.scopes),
            "token_type": "Bearer",
        }

    # publishing ---------------------------------------------------------------------------------
    def creator_info(self, account: SimAccount) -> dict[str, Any]:
        name = account.handle.lstrip("@")
        return {
            "creator_avatar_url": f"https://p16-sign.tiktokcdn.example/{open_id(account)}.jpeg",
            "creator_username": name,
            "creator_nickname": account.handle,
            "privacy_level_options": privacy_options(account),
            "comment_disabled": bool(setting(account, "comment_disabled")),
            "duet_disabled": bool(setting(account, "duet_disabled")),
            "stitch_disabled": bool(setting(account, "stitch_disabled")),
            "max_video_post_duration_sec": int(setting(account, "max_video_post_duration_sec")),
        }

    def check_policy(self, account: SimAccount, privacy: Any, caption: str) -> None:
        """Privacy, audit status, wording and the daily cap, in the order TikTok applies them."""
        if privacy not in privacy_options(account):
            raise ApiError(
                403,
                "privacy_level_option_mismatch",
                f"privacy_level {privacy!r} is not one of the creator's privacy_level_options.",
            )
        if not setting(account, "audited") and privacy != PRIVATE:
            raise ApiError(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post to a private account.",
            )
        lowered = caption.casefold()
        if any(str(word).casefold() in lowered for word in setting(account, "banned_words")):
            raise ApiError(403, "spam_risk_text", "The caption was flagged as spam risk.")
        since = self.sim.clock.now() - timedelta(hours=24)
        recent = sum(
            1
            for post in self.sim.posts.values()
            if post.account_id == account.account_id and post.created_at > since
        )
        if recent >= int(setting(account, "daily_post_cap")):
            raise ApiError(403, "spam_risk_too_many_posts", "The daily post cap has been reached.")

    def check_url(self, account: SimAccount, url: Any) -> str:
        if not isinstance(url, str) or not url:
            raise invalid("A media URL is required for PULL_FROM_URL.")
        if not any(url.startswith(str(p)) for p in setting(account, "verified_url_prefixes")):
            raise ApiError(
                403,
                "url_ownership_unverified",
                "The domain or URL prefix of the media URL has not been verified.",
            )
        return url

    def check_chunks(self, account: SimAccount, source: dict[str, Any]) -> tuple[int, int, int]:
        """The media transfer guide's chunk rules; anything else is ``invalid_params``."""
        size, chunk, count = (
            _integer(source, "video_size"),
            _integer(source, "chunk_size"),
            _integer(source, "total_chunk_count"),
        )
        if size <= 0 or size > int(setting(account, "max_video_bytes")):
            raise invalid(f"video_size {size} is out of range.")
        if size < 5 * MB:
            if chunk != size or count != 1:
                raise invalid("Videos under 5 MB must be uploaded whole (chunk_size = video_size).")
            return size, chunk, count
        if not 5 * MB <= chunk <= 64 * MB or chunk > size:
            raise invalid(f"chunk_size {chunk} must be between 5 MB and 64 MB.")
        if count != size // chunk or not 1 <= count <= 1000:
            raise invalid(f"total_chunk_count must be {size // chunk} for these sizes.")
        if size - chunk * (count - 1) > 128 * MB:
            raise invalid("The final chunk may not exceed 128 MB.")
        return size, chunk, count

    def new_job(self, account: SimAccount, **fields: Any) -> dict[str, Any]:
        prefix = fields.pop("prefix")
        publish_id = f"{prefix}{self.sim.snowflake()}"
        job: dict[str, Any] = {
            "kind": "publish",
            "publish_id": publish_id,
            "account_id": account.account_id,
            "uploaded_bytes": 0,
            "committed_at": None,
            "ready_at": None,
            "visible_at": None,
            "post_id": None,
            "fail_reason": None,
            "inbox": False,
            **fields,
        }
        self.sim.objects[publish_id] = job
        return job

    def commit(self, account: SimAccount, job: dict[str, Any]) -> None:
        """All media is in TikTok's hands: schedule processing, and record the post it becomes."""
        now = self.sim.clock.now()
        work = float(setting(account, "processing_seconds"))
        if job["source"] == "PULL_FROM_URL":
            job["downloaded_at"] = now + timedelta(
                seconds=float(setting(account, "download_seconds"))
            )
            start = job["downloaded_at"]
        else:
            work += 30.0 * job["video_size"] / (512 * MB)
            start = now
        job["committed_at"] = now
        job["ready_at"] = start + timedelta(seconds=work)
        reason = setting(account, "fail_reason")
        if job.get("photo_images") and any(
            urlsplit(u).path.lower().endswith(".png") for u in job["photo_images"]
        ):
            reason = reason or "file_format_check_failed"
        if reason:
            job["fail_reason"] = str(reason)
            return
        if job["inbox"]:
            return
        public = job["privacy_level"] != PRIVATE
        moderation = float(setting(account, "moderation_seconds")) if public else 0.0
        job["visible_at"] = job["ready_at"] + timedelta(seconds=moderation)
        remote_id = self.sim.snowflake()
        kind = "photo" if job.get("photo_images") else "video"
        post = self.sim.record_post(
            account.account_id,
            job["description"] or job["title"],
            remote_id=remote_id,
            url=f"https://www.tiktok.com/@{account.handle.lstrip('@')}/{kind}/{remote_id}",
            visible_at=job["visible_at"],
            title=job["title"],
            privacy_level=job["privacy_level"],
            publish_id=job["publish_id"],
        )
        job["post_id"] = post.remote_id

    def status(self, job: dict[str, Any]) -> dict[str, Any]:
        now = self.sim.clock.now()
        data: dict[str, Any] = {
            "status": "PROCESSING_UPLOAD",
            "fail_reason": "",
            "publicaly_available_post_id": [],  # TikTok's spelling
        }
        pulled = job["source"] == "PULL_FROM_URL"
        if pulled:
            data["downloaded_bytes"] = 0
        else:
            data["uploaded_bytes"] = job["uploaded_bytes"]
        if job["committed_at"] is None:
            return data
        if pulled:
            committed, done = job["committed_at"], job["downloaded_at"]
            if now < done:
                share = (now - committed) / (done - committed) if done > committed else 1.0
                data["status"] = "PROCESSING_DOWNLOAD"
                data["downloaded_bytes"] = int(PULL_SIZE * share)
                return data
            data["downloaded_bytes"] = PULL_SIZE
        if now < job["ready_at"]:
            return data
        if job["fail_reason"]:
            data["status"] = "FAILED"
            data["fail_reason"] = job["fail_reason"]
        elif job["inbox"]:
            data["status"] = "SEND_TO_USER_INBOX"
        else:
            data["status"] = "PUBLISH_COMPLETE"
            post = self.sim.posts.get(job["post_id"])
            if post is not None and not post.deleted and now >= job["visible_at"]:
                data["publicaly_available_post_id"] = [int(post.remote_id)]
        return data

    def pending_inbox(self, account: SimAccount) -> int:
        return sum(
            1
            for job in self.sim.objects.values()
            if job.get("kind") == "publish"
            and job["account_id"] == account.account_id
            and job["inbox"]
            and not job["fail_reason"]
        )

    # reading ------------------------------------------------------------------------------------
    def visible(self, post: SimPost) -> bool:
        return (
            not post.deleted
            and post.visible_at is not None
            and self.sim.clock.now() >= post.visible_at
        )

    def video(self, post: SimPost, fields: list[str]) -> dict[str, Any]:
        counters = self.sim.engagement(post)
        full: dict[str, Any] = {
            "id": post.remote_id,
            "create_time": int(post.created_at.timestamp()),
            "cover_image_url": f"https://p16-sign.tiktokcdn.example/cover/{post.remote_id}.jpeg",
            "share_url": post.url,
            "video_description": post.text,
            "duration": 15,
            "height": 1920,
            "width": 1080,
            "title": post.extra.get("title", ""),
            "embed_html": f'<blockquote class="tiktok-embed" data-video-id="{post.remote_id}">'
            "</blockquote>",
            "embed_link": f"https://www.tiktok.com/embed/v2/{post.remote_id}",
            "view_count": counters["views"],
            "like_count": counters.get("likes", 0),
            "comment_count": counters.get("comments", 0),
            "share_count": counters.get("shares", 0),
        }
        return {name: full[name] for name in fields}

    def user(self, account: SimAccount, fields: list[str]) -> dict[str, Any]:
        posts = [p for p in self.sim.live_posts(account.account_id) if self.visible(p)]
        name = account.handle.lstrip("@")
        full: dict[str, Any] = {
            "open_id": open_id(account),
            "union_id": f"union{open_id(account)}",
            "avatar_url": f"https://p16-sign.tiktokcdn.example/{open_id(account)}.jpeg",
            "display_name": account.handle,
            "bio_description": "",
            "profile_deep_link": f"https://www.tiktok.com/@{name}",
            "is_verified": account.verified,
            "username": name,
            "follower_count": account.followers,
            "following_count": 0,
            "likes_count": sum(self.sim.engagement(p).get("likes", 0) for p in posts),
            "video_count": len(posts),
        }
        return {name: full[name] for name in fields}


def parse_fields(request: Request, allowed: frozenset[str]) -> list[str]:
    raw = request.query_params.get("fields", "")
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    if not fields:
        raise invalid("The fields query parameter is required.")
    unknown = [f for f in fields if f not in allowed]
    if unknown:
        raise invalid(f"Unknown fields: {', '.join(unknown)}.")
    return fields


def member(body: dict[str, Any], key: str) -> dict[str, Any]:
    """A nested JSON object of the request, or an empty one when absent or not an object."""
    value = body.get(key)
    return value if isinstance(value, dict) else {}


async def read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise invalid("The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body


def parse_range(header: str) -> tuple[int, int, int]:
    unit, _, spec = header.partition(" ")
    first, _, rest = spec.partition("-")
    last, _, total = rest.partition("/")
    try:
        numbers = int(first), int(last), int(total)
    except ValueError as exc:
        raise ApiError(400, "invalid_params", "Content-Range is malformed.") from exc
    if unit != "bytes" or not numbers[0] <= numbers[1] < numbers[2]:
        raise ApiError(400, "invalid_params", "Content-Range is malformed.")
    return numbers


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

    @app.post("/v2/oauth/token/")
    async def oauth_token(request: Request) -> Response:
        async def work() -> Response:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            fault = await sim.gate(creates=False)
            if fault is Fault.SERVER_ERROR:
                raise OAuthError(500, "server_error", "Internal error, please retry.")
            if fault is Fault.RATE_LIMITED:
                raise OAuthError(429, "rate_limit_exceeded", "Too many requests.")
            return JSONResponse(platform.token(form))

        return await run(request, work)

    @app.post("/v2/post/publish/creator_info/query/")
    async def creator_info(request: Request) -> Response:
        async def work() -> Response:
            apply_fault(await sim.gate(creates=False))
            grant, account = platform.authorise(request, "video.publish", "video.upload")
            platform.limit(grant, "creator_info", CREATOR_INFO_LIMIT)
            return envelope(sim, platform.creator_info(account))

        return await run(request, work)

    async def init_video(request: Request, *, inbox: bool) -> Response:
        body = await read_json(request)
        source = member(body, "source_info")
        kind = source.get("source")
        # A pulled video is on its way to being posted as soon as init answers.
        fault = await sim.gate(creates=kind == "PULL_FROM_URL")
        apply_fault(fault)
        grant, account = platform.authorise(request, "video.upload" if inbox else "video.publish")
        platform.limit(grant, "init", INIT_LIMIT)
        info = member(body, "post_info")
        title = info.get("title", "")
        if not isinstance(title, str) or utf16_units(title) > 2200:
            raise invalid("post_info.title must be a string of at most 2200 UTF-16 code units.")
        privacy = PRIVATE if inbox else info.get("privacy_level")
        if inbox:
            if platform.pending_inbox(account) >= MAX_PENDING_INBOX:
                raise ApiError(
                    403,
                    "spam_risk_too_many_pending_share",
                    "The user has too many pending shares in the inbox.",
                )
        else:
            if privacy not in PRIVACY_LEVELS:
                raise invalid("post_info.privacy_level is required.")
            platform.check_policy(account, privacy, title)
        prefix = "v_inbox_file~v2." if inbox else "v_pub_file~v2-1."
        if kind == "FILE_UPLOAD":
            size, chunk, count = platform.check_chunks(account, source)
            job = platform.new_job(
                account,
                prefix=prefix,
                source=kind,
                video_size=size,
                chunk_size=chunk,
                total_chunk_count=count,
                upload_token=secrets.token_urlsafe(12),
                title=title,
                description="",
                privacy_level=privacy,
                inbox=inbox,
            )
            # TikTok hands out an absolute URL on its upload host; here it is this app's root.
            root, mount = str(request.base_url).rstrip("/"), request.scope.get("root_path", "")
            root += "" if root.endswith(mount) else mount
            upload_url = (
                f"{root}/upload/video/"
                f"?upload_id={job['publish_id']}&upload_token={job['upload_token']}"
            )
            return envelope(sim, {"publish_id": job["publish_id"], "upload_url": upload_url})
        if kind == "PULL_FROM_URL":
            url = platform.check_url(account, source.get("video_url"))
            job = platform.new_job(
                account,
                prefix="v_inbox_url~v2." if inbox else "v_pub_url~v2.",
                source=kind,
                video_size=PULL_SIZE,
                video_url=url,
                title=title,
                description="",
                privacy_level=privacy,
                inbox=inbox,
            )
            platform.commit(account, job)
            if fault is Fault.DROP_AFTER_COMMIT:
                return DropConnection()
            return envelope(sim, {"publish_id": job["publish_id"]})
        raise invalid("source_info.source must be FILE_UPLOAD or PULL_FROM_URL.")

    @app.post("/v2/post/publish/video/init/")
    async def video_init(request: Request) -> Response:
        return await run(request, lambda: init_video(request, inbox=False))

    @app.post("/v2/post/publish/inbox/video/init/")
    async def inbox_video_init(request: Request) -> Response:
        return await run(request, lambda: init_video(request, inbox=True))

    @app.put("/upload/video/")
    async def upload(request: Request) -> Response:
        async def work() -> Response:
            job = sim.objects.get(request.query_params.get("upload_id", ""))
            if (
                job is None
                or job.get("kind") != "publish"
                or job.get("upload_token") != request.query_params.get("upload_token")
            ):
                raise ApiError(404, "invalid_params", "The upload_id or upload_token is invalid.")
            first, last, total = parse_range(request.headers.get("content-range", ""))
            chunk = await request.body()
            index = first // job["chunk_size"] if job["chunk_size"] else 0
            final = index == job["total_chunk_count"] - 1
            fault = await sim.gate(creates=final and job["committed_at"] is None)
            apply_fault(fault)
            if total != job["video_size"] or len(chunk) != last - first + 1:
                raise ApiError(400, "invalid_file_upload", "The chunk does not match its range.")
            if first + len(chunk) == job["uploaded_bytes"] and first < job["uploaded_bytes"]:
                # The same chunk again (its answer was lost): accepted, nothing changes.
                return Response(status_code=201 if final else 206)
            expected_last = job["video_size"] - 1 if final else first + job["chunk_size"] - 1
            if first != job["uploaded_bytes"] or last != expected_last:
                raise ApiError(
                    400,
                    "invalid_file_upload",
                    f"Chunks must be sent in order; expected bytes {job['uploaded_bytes']}-.",
                )
            job["uploaded_bytes"] = last + 1
            if not final:
                return Response(status_code=206)
            platform.commit(sim.accounts[job["account_id"]], job)
            if fault is Fault.DROP_AFTER_COMMIT:
                return DropConnection()
            return Response(status_code=201)

        return await run(request, work)

    @app.post("/v2/post/publish/content/init/")
    async def content_init(request: Request) -> Response:
        async def work() -> Response:
            body = await read_json(request)
            fault = await sim.gate(creates=True)
            apply_fault(fault)
            mode = body.get("post_mode")
            inbox = mode == "MEDIA_UPLOAD"
            grant, account = platform.authorise(
                request, "video.upload" if inbox else "video.publish"
            )
            platform.limit(grant, "init", INIT_LIMIT)
            if body.get("media_type") != "PHOTO" or mode not in ("DIRECT_POST", "MEDIA_UPLOAD"):
                raise invalid("media_type must be PHOTO and post_mode DIRECT_POST or MEDIA_UPLOAD.")
            info, source = member(body, "post_info"), member(body, "source_info")
            title, description = info.get("title", ""), info.get("description", "")
            if not isinstance(title, str) or len(title) > 90:
                raise invalid("post_info.title must be at most 90 characters.")
            if not isinstance(description, str) or utf16_units(description) > 4000:
                raise invalid("post_info.description must be at most 4000 UTF-16 code units.")
            if source.get("source") != "PULL_FROM_URL":
                raise invalid("Photos can only be posted with source PULL_FROM_URL.")
            images = source.get("photo_images")
            if not isinstance(images, list) or not 1 <= len(images) <= 35:
                raise invalid("photo_images must hold 1 to 35 URLs.")
            cover = source.get("photo_cover_index", 0)
            if not isinstance(cover, int) or not 0 <= cover < len(images):
                raise invalid("photo_cover_index is out of range.")
            privacy = PRIVATE if inbox else info.get("privacy_level")
            if not inbox:
                if privacy not in PRIVACY_LEVELS:
                    raise invalid("post_info.privacy_level is required.")
                platform.check_policy(account, privacy, f"{title} {description}")
            urls = [platform.check_url(account, url) for url in images]
            job = platform.new_job(
                account,
                prefix="p_inbox_url~v2." if inbox else "p_pub_url~v2.",
                source="PULL_FROM_URL",
                video_size=PULL_SIZE,
                photo_images=urls,
                title=title,
                description=description,
                privacy_level=privacy,
                inbox=inbox,
            )
            platform.commit(account, job)
            if fault is Fault.DROP_AFTER_COMMIT:
                return DropConnection()
            return envelope(sim, {"publish_id": job["publish_id"]})

        return await run(request, work)

    @app.post("/v2/post/publish/status/fetch/")
    async def status_fetch(request: Request) -> Response:
        async def work() -> Response:
            body = await read_json(request)
            apply_fault(await sim.gate(creates=False))
            grant, account = platform.authorise(request, "video.publish", "video.upload")
            platform.limit(grant, "status", STATUS_LIMIT)
            job = sim.objects.get(str(body.get("publish_id", "")))
            if (
                job is None
                or job.get("kind") != "publish"
                or job["account_id"] != account.account_id
            ):
                raise invalid("The publish_id is invalid or does not belong to this user.")
            return envelope(sim, platform.status(job))

        return await run(request, work)

    @app.post("/v2/video/query/")
    async def video_query(request: Request) -> Response:
        async def work() -> Response:
            body = await read_json(request)
            apply_fault(await sim.gate(creates=False))
            grant, account = platform.authorise(request, "video.list")
            platform.limit(grant, "video_query", DISPLAY_LIMIT)
            fields = parse_fields(request, VIDEO_FIELDS)
            ids = member(body, "filters").get("video_ids")
            if not isinstance(ids, list) or not ids:
                raise invalid("filters.video_ids is required.")
            if len(ids) > 20:
                raise invalid("At most 20 video_ids can be queried at once.")
            videos = []
            for video_id in ids:
                post = sim.posts.get(str(video_id))
                # Other users' videos, deleted ones and those still in moderation are left out.
                if post and post.account_id == account.account_id and platform.visible(post):
                    videos.append(platform.video(post, fields))
            return envelope(sim, {"videos": videos})

        return await run(request, work)

    @app.post("/v2/video/list/")
    async def video_list(request: Request) -> Response:
        async def work() -> Response:
            body = await read_json(request)
            apply_fault(await sim.gate(creates=False))
            grant, account = platform.authorise(request, "video.list")
            platform.limit(grant, "video_list", DISPLAY_LIMIT)
            fields = parse_fields(request, VIDEO_FIELDS)
            count = body.get("max_count", 10)
            if not isinstance(count, int) or not 1 <= count <= 20:
                raise invalid("max_count must be between 1 and 20.")
            cursor = body.get("cursor")
            if cursor is not None and not isinstance(cursor, int):
                raise invalid("cursor must be an integer (milliseconds).")
            show_private = bool(setting(account, "list_private"))
            posts = [
                p
                for p in sim.live_posts(account.account_id)
                if platform.visible(p)
                and (show_private or p.extra.get("privacy_level") != PRIVATE)
                and (cursor is None or _millis(p.created_at) < cursor)
            ]
            page = posts[:count]
            next_cursor = _millis(page[-1].created_at) if page else (cursor or 0)
            return envelope(
                sim,
                {
                    "videos": [platform.video(p, fields) for p in page],
                    "cursor": next_cursor,
                    "has_more": len(posts) > count,
                },
            )

        return await run(request, work)

    @app.get("/v2/user/info/")
    async def user_info(request: Request) -> Response:
        async def work() -> Response:
            apply_fault(await sim.gate(creates=False))
            grant, account = platform.authorise(request, "user.info.basic")
            platform.limit(grant, "user_info", DISPLAY_LIMIT)
            fields = parse_fields(request, USER_FIELDS)
            return envelope(sim, {"user": platform.user(account, fields)})

        return await run(request, work)

    return app


def _integer(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid(f"source_info.{key} must be an integer.")
    return value


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
