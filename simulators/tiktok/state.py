"""TikTok's behaviour over one simulation: tokens and quotas, creator info, publish jobs, the
Display API's views of videos and users."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request

from simulators.harness import (
    Grant,
    SimAccount,
    SimPost,
    Simulation,
    TokenError,
)
from simulators.tiktok.auth import _app_credentials, _issue, challenge_matches
from simulators.tiktok.wire import (
    MB,
    PRIVATE,
    PULL_SIZE,
    ApiError,
    OAuthError,
    _integer,
    invalid,
    open_id,
    privacy_options,
    setting,
)


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
            now = self.sim.clock.now()
            if (
                record is None
                or record["used"]
                or record.get("expires_at", now) < now
                or record.get("redirect_uri", form.get("redirect_uri")) != form.get("redirect_uri")
                or not challenge_matches(record.get("challenge", ""), form.get("code_verifier", ""))
            ):
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
            for post in self.sim.recent_posts(account.account_id, since)
            if post.created_at > since
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
