"""TikTok: Content Posting API (creator info → init → chunked upload → status) and Display API.

Publishing is asynchronous: ``publish`` returns ``SUBMITTED`` with the ``publish_id`` and
``check_publish`` polls ``status/fetch`` until TikTok hands out the public video id, which
only happens after processing and, for public posts, moderation. Every response carries the
envelope ``{"data": {...}, "error": {"code", "message", "log_id"}}``; ``error.code`` decides,
not the HTTP status alone. Documented paths end with ``/`` and are sent exactly so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from connectors.base import (
    BaseConnector,
    Capabilities,
    Content,
    Credentials,
    Media,
    MediaKind,
    MetricCounts,
    PublishResult,
    PublishState,
    RateLimitPolicy,
    RemotePost,
    batched,
    check_common_rules,
)
from connectors.errors import (
    AuthExpired,
    ConnectorError,
    ContentRejected,
    OutcomeUnknown,
    RateLimited,
    ReauthorizationRequired,
    RemoteNotFound,
    TransientError,
    ValidationFailed,
    Violation,
)
from connectors.fingerprint import content_fingerprint, normalise_text
from connectors.http import Classifier, data_object, json_body, retry_after, send
from connectors.numbers import parse_count, parse_epoch
from connectors.oauth import (
    AuthorizationFlow,
    Authorized,
    code_grant,
    first_credentials,
    refresh_grant,
    renewed,
    require_refresh,
)

PLATFORM = "tiktok"

TOKEN_PATH = "/v2/oauth/token/"  # noqa: S105 - a URL path, not a secret
CREATOR_INFO_PATH = "/v2/post/publish/creator_info/query/"
VIDEO_INIT_PATH = "/v2/post/publish/video/init/"
CONTENT_INIT_PATH = "/v2/post/publish/content/init/"
STATUS_PATH = "/v2/post/publish/status/fetch/"
VIDEO_QUERY_PATH = "/v2/video/query/"
VIDEO_LIST_PATH = "/v2/video/list/"

METRIC_FIELDS = "id,create_time,view_count,like_count,comment_count,share_count"
PUBLISHED_FIELDS = "id,create_time,share_url"
LIST_FIELDS = "id,create_time,title,video_description,share_url"

MB = 1024 * 1024
MIN_CHUNK_BYTES = 5 * MB
MAX_CHUNK_BYTES = 64 * MB
MAX_FINAL_CHUNK_BYTES = 128 * MB
MAX_CHUNKS = 1000
CHUNK_BYTES = 10 * MB
MAX_VIDEO_BYTES = 4 * 1024 * MB
MAX_PHOTO_BYTES = 20 * MB
MAX_CAPTION_UNITS = 2200
MAX_PHOTO_TITLE = 90
MAX_PHOTO_DESCRIPTION_UNITS = 4000
MAX_LIST_PAGES = 5
"""How far back ``find_post`` pages through ``video/list`` (20 videos a page)."""

VIDEO_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm"}
PHOTO_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
KNOWN_OTHER_TYPES = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".heic": "image/heic",
    ".avi": "video/x-msvideo",
    ".mkv": "video/x-matroska",
    ".wmv": "video/x-ms-wmv",
}

PUBLIC = "PUBLIC_TO_EVERYONE"
PRIVATE = "SELF_ONLY"

RATE_WINDOW = timedelta(seconds=60)
"""TikTok counts requests in a sliding minute and sends no reset header."""
QUOTA_WAITS: Mapping[str, timedelta] = {
    "spam_risk_too_many_posts": timedelta(hours=24),
    "reached_active_user_cap": timedelta(hours=24),
    "spam_risk_too_many_pending_share": timedelta(hours=1),
}
"""Caps that lift with time: the daily post cap, the app's daily users, pending inbox shares."""
REAUTHORISE = frozenset({"scope_not_authorized", "scope_permission_missed"})
OAUTH_REAUTHORISE = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})


def utf16_units(text: str) -> int:
    """Length as TikTok counts captions: UTF-16 code units (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def _extension(media: Media) -> str:
    """The URL's file extension; a library item's type is known from its bytes instead."""
    if media.url is None:
        return ""
    return PurePosixPath(urlsplit(media.url).path).suffix.lower()


def media_type(media: Media) -> str | None:
    """The declared MIME type, else the one its file name implies; ``None`` when unknown."""
    if media.mime_type:
        declared = media.mime_type.lower()
        return "image/jpeg" if declared == "image/jpg" else declared
    ext = _extension(media)
    return VIDEO_TYPES.get(ext) or PHOTO_TYPES.get(ext) or KNOWN_OTHER_TYPES.get(ext)


@dataclass(frozen=True)
class ChunkPlan:
    """How a file is cut for ``FILE_UPLOAD``: the last chunk absorbs the remainder."""

    video_size: int
    chunk_size: int
    total_chunk_count: int

    def ranges(self) -> list[tuple[int, int]]:
        """Inclusive byte ranges, as sent in ``Content-Range``."""
        bounds = []
        for index in range(self.total_chunk_count):
            first = index * self.chunk_size
            final = index == self.total_chunk_count - 1
            last = self.video_size - 1 if final else first + self.chunk_size - 1
            bounds.append((first, last))
        return bounds


def chunk_plan(video_size: int, *, preferred: int = CHUNK_BYTES) -> ChunkPlan:
    """TikTok's chunk rules: under 5 MB one whole chunk; else 5–64 MB chunks, count rounded down."""
    if video_size <= 0:
        raise ValueError("video_size must be positive")
    if video_size < MIN_CHUNK_BYTES:
        return ChunkPlan(video_size, video_size, 1)
    chunk = min(max(preferred, MIN_CHUNK_BYTES), MAX_CHUNK_BYTES, video_size)
    count = video_size // chunk
    if count > MAX_CHUNKS:
        chunk = -(-video_size // MAX_CHUNKS)
        count = video_size // chunk
    return ChunkPlan(video_size, chunk, count)


class TiktokConnector(BaseConnector):
    """Direct posts of one video (uploaded in chunks or pulled from a verified URL) or photos.

    ``credentials``: ``access_token`` (user token, scopes ``video.publish``, ``video.list``,
    ``user.info.basic``), ``refresh_token``, ``client_id`` (the app's client key),
    ``client_secret``, ``user_id`` (``open_id``). ``extra`` may hold ``privacy_level`` (one of
    the creator's options; default public when offered), ``username`` (for post URLs) and
    ``refresh_expires_at`` (kept up to date by ``refresh_credentials``).
    """

    capabilities: ClassVar[Capabilities] = Capabilities(
        platform=PLATFORM,
        display_name="TikTok",
        max_text_length=MAX_CAPTION_UNITS,
        text_length_rule="UTF-16 code units (photo descriptions: 4,000)",
        media_kinds=frozenset({MediaKind.VIDEO, MediaKind.IMAGE}),
        max_media=35,
        metrics_batch_size=20,
        publishes_async=True,
        usual_processing_seconds=1800.0,  # processing, then moderation of public posts
        interaction_counters=("likes", "comments", "shares"),
        requires_media=True,
        views_available=True,
        supports_refresh=True,
        publish_rate_limit=RateLimitPolicy(requests=6, per_seconds=60),
        # Display API: 600 requests per minute per endpoint.
        metrics_rate_limit=RateLimitPolicy(requests=600, per_seconds=60),
    )
    default_base_url: ClassVar[str] = "https://open.tiktokapis.com"
    authorization: ClassVar[AuthorizationFlow] = AuthorizationFlow(
        authorize_url="https://www.tiktok.com/v2/auth/authorize/",
        token_path=TOKEN_PATH,
        scopes=("user.info.basic", "video.publish", "video.upload", "video.list"),
        scope_separator=",",
        client_param="client_key",
        # Login Kit for Web takes no PKCE (only the mobile and desktop kits do).
        pkce=False,
    )

    # -- validation ---------------------------------------------------------------------------
    @classmethod
    def validate(cls, content: Content) -> list[Violation]:
        caps = cls.capabilities
        problems = check_common_rules(caps, content)
        videos = [(i, m) for i, m in enumerate(content.media) if m.kind is MediaKind.VIDEO]
        photos = [(i, m) for i, m in enumerate(content.media) if m.kind is MediaKind.IMAGE]
        if videos and photos:
            problems.append(
                Violation(
                    "media",
                    f"1 video and {len(photos)} images"
                    if len(videos) == 1
                    else "videos and images",
                    "TikTok posts carry either one video or photos, not both",
                )
            )
        if len(videos) > 1:
            problems.append(Violation("media", f"{len(videos)} videos", "TikTok posts one video"))
        for index, video in videos:
            problems.extend(_video_problems(index, video))
        for index, photo in photos:
            problems.extend(_photo_problems(index, photo))
        units = utf16_units(content.text)
        if photos and not videos:
            if units > MAX_PHOTO_DESCRIPTION_UNITS:
                problems.append(
                    Violation(
                        "text",
                        f"{units} UTF-16 units",
                        "exceeds TikTok's photo description limit of 4,000",
                    )
                )
            if content.title is not None and len(content.title) > MAX_PHOTO_TITLE:
                problems.append(
                    Violation(
                        "title",
                        f"{len(content.title)} characters",
                        "exceeds TikTok's photo title limit of 90",
                    )
                )
        elif units > MAX_CAPTION_UNITS:
            problems.append(
                Violation(
                    "text", f"{units} UTF-16 units", "exceeds TikTok's caption limit of 2,200"
                )
            )
        return problems

    # -- requests -----------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.credentials.access_token}",
            "Content-Type": "application/json; charset=UTF-8",
        }

    def _call(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        params: Mapping[str, str] | None = None,
        creates: bool = False,
        classify: Classifier | None = None,
    ) -> dict[str, Any]:
        """POST a JSON body and return the envelope's ``data`` (errors raised as typed)."""
        response = send(
            self.http,
            "POST",
            path,
            platform=PLATFORM,
            classify=classify or self._classify,
            creates=creates,
            headers=self._headers(),
            params=params,
            content=json.dumps(body).encode("utf-8"),
        )
        return data_object(response, path=path, platform=PLATFORM)

    def _classify(self, response: httpx.Response) -> ConnectorError | None:
        """Recognise TikTok's envelope (and OAuth errors) whatever the HTTP status says."""
        body = json_body(response)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = str(error.get("code") or "")
            if code and code != "ok":
                message = str(error.get("message") or "")
                log_id = str(error.get("log_id") or "")
                return self._error_for(code, message, log_id, response)
        elif isinstance(error, str) and error:
            assert isinstance(body, dict)
            return self._oauth_error(error, str(body.get("error_description") or ""), response)
        if response.status_code == 429:
            return self._rate_limited("rate_limit_exceeded", "HTTP 429", response)
        if response.status_code == 401:
            return AuthExpired("HTTP 401 Unauthorized", platform=PLATFORM, code="401")
        return None

    def _classify_status(self, response: httpx.Response) -> ConnectorError | None:
        """``status/fetch`` answers an unknown ``publish_id`` with ``invalid_params``."""
        problem = self._classify(response)
        if problem is not None and problem.code == "invalid_params":
            return RemoteNotFound(problem.message, platform=PLATFORM, code=problem.code)
        return problem

    def _rate_limited(self, code: str, text: str, response: httpx.Response) -> RateLimited:
        now = self.clock.now()
        wait = QUOTA_WAITS.get(code, RATE_WINDOW)
        at = retry_after(response, now=now) or now + wait
        return RateLimited(text, platform=PLATFORM, code=code, retry_at=at)

    def _error_for(
        self, code: str, message: str, log_id: str, response: httpx.Response
    ) -> ConnectorError:
        text = f"{code}: {message}" if message else code
        if log_id:
            text += f" (log_id {log_id})"
        status = response.status_code
        if code == "access_token_invalid":
            return AuthExpired(text, platform=PLATFORM, code=code)
        if code in REAUTHORISE:
            return ReauthorizationRequired(text, platform=PLATFORM, code=code)
        if code == "rate_limit_exceeded" or code in QUOTA_WAITS or status == 429:
            return self._rate_limited(code, text, response)
        if code == "internal_error" or status >= 500:
            return TransientError(text, platform=PLATFORM, code=code)
        if status == 404:
            return RemoteNotFound(text, platform=PLATFORM, code=code)
        if status in (400, 403, 422) or code.startswith("spam_risk"):
            # invalid_params, invalid_file_upload, privacy_level_option_mismatch, spam_risk_text,
            # url_ownership_unverified, unaudited_client_can_only_post_to_private_accounts ...
            return ContentRejected(text, platform=PLATFORM, code=code)
        if status == 401:
            return AuthExpired(text, platform=PLATFORM, code=code)
        return ConnectorError(text, platform=PLATFORM, code=code)

    def _oauth_error(
        self, error: str, description: str, response: httpx.Response
    ) -> ConnectorError:
        text = f"{error}: {description}" if description else error
        if error in OAUTH_REAUTHORISE:
            return ReauthorizationRequired(text, platform=PLATFORM, code=error)
        if error == "rate_limit_exceeded" or response.status_code == 429:
            return self._rate_limited(error, text, response)
        if response.status_code >= 500 or error in ("server_error", "temporarily_unavailable"):
            return TransientError(text, platform=PLATFORM, code=error)
        return ConnectorError(text, platform=PLATFORM, code=error)

    # -- publishing -----------------------------------------------------------------------------
    def publish(self, content: Content) -> PublishResult:
        problems = self.validate(content)
        if problems:
            raise ValidationFailed(problems, platform=PLATFORM)
        creator = self._call(CREATOR_INFO_PATH, {})
        videos = [m for m in content.media if m.kind is MediaKind.VIDEO]
        if not videos:
            return self._post_photos(content, creator)
        post_info = {
            "title": content.text,
            "privacy_level": self._privacy_level(creator),
            "disable_duet": bool(creator.get("duet_disabled")),
            "disable_comment": bool(creator.get("comment_disabled")),
            "disable_stitch": bool(creator.get("stitch_disabled")),
            "brand_content_toggle": False,
            "brand_organic_toggle": False,
        }
        video = videos[0]
        if video.url is not None:
            body = {
                "post_info": post_info,
                "source_info": {"source": "PULL_FROM_URL", "video_url": video.url},
            }
            # TikTok starts pulling as soon as it accepts: a lost answer may be a live post.
            data = self._call(VIDEO_INIT_PATH, body, creates=True)
            return self._submitted(data, creates=True)
        return self._upload_video(video, post_info)

    def _privacy_level(self, creator: Mapping[str, Any]) -> str:
        """The account's configured level, else public when the creator may post publicly.

        A configured level the creator does not offer is sent anyway, so TikTok's own
        ``privacy_level_option_mismatch`` reaches staff as the reason.
        """
        configured = self.credentials.extra.get("privacy_level")
        if configured:
            return configured
        options = [str(o) for o in creator.get("privacy_level_options") or []]
        if PUBLIC in options or not options:
            return PUBLIC
        return PRIVATE if PRIVATE in options else options[0]

    def _submitted(self, data: Mapping[str, Any], *, creates: bool) -> PublishResult:
        publish_id = data.get("publish_id")
        if not isinstance(publish_id, str) or not publish_id:
            error = OutcomeUnknown if creates else ConnectorError
            raise error("init succeeded without a publish_id", platform=PLATFORM)
        return PublishResult(
            state=PublishState.SUBMITTED, submission_id=publish_id, raw={"publish_id": publish_id}
        )

    def _upload_video(self, video: Media, post_info: Mapping[str, Any]) -> PublishResult:
        """A library video sent in chunks: nothing is read that the library did not store."""
        with self.media.open_library(0, video, platform=PLATFORM) as (handle, size):
            if size == 0:
                raise ValidationFailed(
                    [Violation("media[0]", f"library item {video.media_id}", "is empty")],
                    platform=PLATFORM,
                )
            plan = chunk_plan(size)
            source_info = {
                "source": "FILE_UPLOAD",
                "video_size": plan.video_size,
                "chunk_size": plan.chunk_size,
                "total_chunk_count": plan.total_chunk_count,
            }
            # Nothing is posted until the last chunk arrives: a lost init answer is safe to retry.
            data = self._call(VIDEO_INIT_PATH, {"post_info": post_info, "source_info": source_info})
            result = self._submitted(data, creates=False)
            upload_url = data.get("upload_url")
            if not isinstance(upload_url, str) or not upload_url:
                raise ConnectorError("FILE_UPLOAD init returned no upload_url", platform=PLATFORM)
            publish_id = result.submission_id or ""
            mime = media_type(video) or "video/mp4"
            ranges = plan.ranges()
            for index, (first, last) in enumerate(ranges):
                handle.seek(first)
                chunk = handle.read(last - first + 1)
                final = index == len(ranges) - 1
                try:
                    self._put_chunk(upload_url, chunk, first, last, size, mime, final=final)
                except OutcomeUnknown as lost:
                    return self._settle_lost_upload(publish_id, size, lost)
        return result

    def _put_chunk(
        self, url: str, chunk: bytes, first: int, last: int, total: int, mime: str, *, final: bool
    ) -> None:
        # The upload URL carries its own token: the user's bearer token is not sent there.
        send(
            self.http,
            "PUT",
            url,
            platform=PLATFORM,
            classify=self._classify,
            creates=final,  # the last chunk is what makes TikTok process and post the video
            headers={
                "Content-Type": mime,
                "Content-Range": f"bytes {first}-{last}/{total}",
            },
            content=chunk,
        )

    def _settle_lost_upload(
        self, publish_id: str, size: int, lost: OutcomeUnknown
    ) -> PublishResult:
        """The last chunk's answer was lost: the publish_id is known, so ask TikTok directly."""
        try:
            data = self._call(
                STATUS_PATH, {"publish_id": publish_id}, classify=self._classify_status
            )
        except ConnectorError as exc:
            raise OutcomeUnknown(
                f"the answer to the last chunk of {publish_id} was lost and its status could not "
                f"be read ({exc})",
                platform=PLATFORM,
                code="upload_unconfirmed",
            ) from lost
        uploaded = parse_count(data.get("uploaded_bytes")) or 0
        if data.get("status") == "PROCESSING_UPLOAD" and uploaded < size:
            raise TransientError(
                f"the last chunk of {publish_id} never arrived ({uploaded} of {size} bytes); "
                "nothing was posted",
                platform=PLATFORM,
                code="upload_incomplete",
            ) from lost
        return self._result_from_status(publish_id, data)

    def _post_photos(self, content: Content, creator: Mapping[str, Any]) -> PublishResult:
        body = {
            "post_info": {
                "title": content.title or "",
                "description": content.text,
                "privacy_level": self._privacy_level(creator),
                "disable_comment": bool(creator.get("comment_disabled")),
                "auto_add_music": True,
            },
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_cover_index": 0,
                "photo_images": [m.url for m in content.media],
            },
            "post_mode": "DIRECT_POST",
            "media_type": "PHOTO",
        }
        data = self._call(CONTENT_INIT_PATH, body, creates=True)
        return self._submitted(data, creates=True)

    def check_publish(self, submission_id: str) -> PublishResult:
        data = self._call(
            STATUS_PATH, {"publish_id": submission_id}, classify=self._classify_status
        )
        return self._result_from_status(submission_id, data)

    def _result_from_status(self, publish_id: str, data: Mapping[str, Any]) -> PublishResult:
        status = str(data.get("status") or "")
        if status == "FAILED":
            reason = str(data.get("fail_reason") or "unknown")
            raise ContentRejected(
                f"TikTok did not publish {publish_id}: {reason}", platform=PLATFORM, code=reason
            )
        if status == "SEND_TO_USER_INBOX":
            raise ContentRejected(
                f"{publish_id} went to the creator's inbox; it is posted only when the creator "
                "finishes it in the TikTok app",
                platform=PLATFORM,
                code=status,
            )
        # The field name is TikTok's own spelling.
        ids = data.get("publicaly_available_post_id") or []
        if status == "PUBLISH_COMPLETE" and ids:
            return self._published(publish_id, str(ids[0]), data)
        # Still processing, or complete but in moderation: the public id is not out yet.
        return PublishResult(state=PublishState.SUBMITTED, submission_id=publish_id, raw=dict(data))

    def _published(
        self, publish_id: str, video_id: str, status: Mapping[str, Any]
    ) -> PublishResult:
        try:
            found = self._query([video_id], PUBLISHED_FIELDS)
        except ConnectorError as exc:
            if exc.retryable:
                raise  # poll again later rather than record a post without its URL
            found = []
        video = found[0] if found else {}
        url = video.get("share_url") or self._fallback_url(video_id)
        return PublishResult(
            state=PublishState.PUBLISHED,
            remote_id=video_id,
            url=str(url) if url else None,
            submission_id=publish_id,
            published_at=parse_epoch(video.get("create_time")),
            raw={"status": dict(status), "video": video},
        )

    def _fallback_url(self, video_id: str) -> str | None:
        username = self.credentials.extra.get("username", "").lstrip("@")
        return f"https://www.tiktok.com/@{username}/video/{video_id}" if username else None

    # -- reading --------------------------------------------------------------------------------
    def _query(self, ids: Sequence[str], fields: str) -> list[dict[str, Any]]:
        data = self._call(
            VIDEO_QUERY_PATH, {"filters": {"video_ids": list(ids)}}, params={"fields": fields}
        )
        return [v for v in data.get("videos") or [] if isinstance(v, dict) and "id" in v]

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[MetricCounts]:
        results: list[MetricCounts] = []
        for batch in batched(list(remote_ids), self.capabilities.metrics_batch_size):
            for video in self._query(batch, METRIC_FIELDS):
                results.append(
                    MetricCounts(
                        remote_id=str(video["id"]),
                        views=parse_count(video.get("view_count")),
                        likes=parse_count(video.get("like_count")),
                        comments=parse_count(video.get("comment_count")),
                        shares=parse_count(video.get("share_count")),
                        raw=video,
                    )
                )
        return results

    def find_post(self, content: Content, *, since: datetime) -> RemotePost | None:
        """The newest listed video whose caption matches ``content``'s, posted since ``since``.

        ``video/list`` shows public videos only once moderation is over, and nothing can be
        looked up by caption otherwise. So "not listed" does not mean "not posted": it is
        reported as ambiguous (``OutcomeUnknown``) for staff rather than retried blindly.
        """
        if not normalise_text(content.text):
            raise OutcomeUnknown(
                "an empty caption cannot be matched on TikTok; check the account",
                platform=PLATFORM,
                code="ambiguous",
            )
        wanted = content_fingerprint(content.text)
        floor = since.replace(microsecond=0)
        cursor: Any = None
        for _ in range(MAX_LIST_PAGES):
            body: dict[str, Any] = {"max_count": 20}
            if cursor is not None:
                body["cursor"] = cursor
            data = self._call(VIDEO_LIST_PATH, body, params={"fields": LIST_FIELDS})
            for video in data.get("videos") or []:
                created = parse_epoch(video.get("create_time"))
                if created is not None and created < floor:
                    raise self._ambiguity(since)  # newest first: the rest are older still
                captions = (
                    str(video.get("title") or ""),
                    str(video.get("video_description") or ""),
                )
                if any(content_fingerprint(c) == wanted for c in captions if c):
                    return RemotePost(
                        remote_id=str(video["id"]),
                        url=str(video["share_url"]) if video.get("share_url") else None,
                        published_at=created,
                        text=captions[1] or captions[0],
                    )
            cursor = data.get("cursor")
            if not data.get("has_more") or cursor is None:
                break
        raise self._ambiguity(since)

    def _ambiguity(self, since: datetime) -> OutcomeUnknown:
        return OutcomeUnknown(
            f"no public video with this caption listed since {since.isoformat()}; it may still "
            "be processing or in moderation, or be private, so it is not retried automatically",
            platform=PLATFORM,
            code="ambiguous",
        )

    # -- credentials ------------------------------------------------------------------------------
    def complete_authorization(
        self, *, code: str, redirect_uri: str, verifier: str | None
    ) -> Authorized:
        """Exchange the code (``client_key`` and secret in the form) and read the username."""
        app, now = self.credentials, self.clock.now()
        form = {
            "client_key": app.client_id or "",
            "client_secret": app.client_secret or "",
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
        }
        if verifier:
            form["code_verifier"] = verifier
        answer = code_grant(
            self.http,
            self.authorization,
            platform=PLATFORM,
            classify=self._classify,
            headers={"Cache-Control": "no-cache"},
            form=form,
        )
        response = send(
            self.http,
            "GET",
            "/v2/user/info/",
            platform=PLATFORM,
            classify=self._classify,
            headers={"Authorization": f"Bearer {answer.access_token}"},
            params={"fields": "open_id,username"},
        )
        user = data_object(response, path="/v2/user/info/", platform=PLATFORM).get("user")
        user = user if isinstance(user, dict) else {}
        username = str(user.get("username") or "")
        open_id = answer.body.get("open_id") or user.get("open_id")
        extra = {"username": username}
        if isinstance(answer.body.get("scope"), str):
            extra["scope"] = answer.body["scope"]
        credentials = first_credentials(
            answer,
            client_id=app.client_id or "",
            client_secret=app.client_secret,
            now=now,
            user_id=str(open_id) if open_id else None,
            extra=extra,
        )
        return Authorized(credentials=credentials, handle=username)

    def refresh_credentials(self) -> Credentials:
        """Refresh with the stored refresh token; TikTok rotates it, so keep the new one."""
        current, now = self.credentials, self.clock.now()
        require_refresh(current, platform=PLATFORM, now=now, needs_secret=True)
        answer = refresh_grant(
            self.http,
            TOKEN_PATH,
            platform=PLATFORM,
            classify=self._classify,
            headers={"Cache-Control": "no-cache"},
            form={
                "client_key": current.client_id or "",
                "client_secret": current.client_secret or "",
                "grant_type": "refresh_token",
                "refresh_token": current.refresh_token or "",
            },
        )
        extra = dict(current.extra)
        if isinstance(answer.body.get("scope"), str):
            extra["scope"] = answer.body["scope"]
        open_id = answer.body.get("open_id")
        return renewed(
            current,
            answer,
            now=now,
            user_id=open_id if isinstance(open_id, str) else None,
            extra=extra,
        )


def _video_problems(index: int, video: Media) -> list[Violation]:
    problems: list[Violation] = []
    kind = media_type(video)
    if kind is not None and kind not in VIDEO_TYPES.values():
        problems.append(
            Violation(f"media[{index}]", kind, "is not a video TikTok accepts (MP4, MOV, WebM)")
        )
    if video.size_bytes is not None and not 0 < video.size_bytes <= MAX_VIDEO_BYTES:
        problems.append(
            Violation(f"media[{index}]", f"{video.size_bytes} bytes", "must be 1 byte to 4 GB")
        )
    return problems


def _photo_problems(index: int, photo: Media) -> list[Violation]:
    problems: list[Violation] = []
    if photo.library_file is not None:
        problems.append(
            Violation(
                f"media[{index}]",
                f"library item {photo.media_id}",
                "must be an https URL on a verified domain: TikTok pulls photos, it takes no "
                "photo uploads",
            )
        )
    kind = media_type(photo)
    if kind is not None and kind not in PHOTO_TYPES.values():
        problems.append(
            Violation(f"media[{index}]", kind, "is not a photo TikTok accepts (JPEG, WebP)")
        )
    if photo.size_bytes is not None and photo.size_bytes > MAX_PHOTO_BYTES:
        problems.append(
            Violation(f"media[{index}]", f"{photo.size_bytes} bytes", "exceeds 20 MB per photo")
        )
    return problems
