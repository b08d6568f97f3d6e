"""Douyin (抖音) open platform: upload → create → review, the author's video list and data.

Publishing on behalf of an authorised account (scope ``video.create.bind``) uploads the video
(one request up to 50 MB, else ``init_video_part_upload`` → parts → ``complete``) or the
pictures, then ``create_video`` / ``create_image_text`` makes the post. Douyin reviews every
post (审核) before it is public, so publishing is asynchronous: ``publish`` answers
``SUBMITTED`` with the ``item_id`` and ``check_publish`` reads ``video_data`` until the
review is over (``video_status`` 1) or failed (2, 不适宜公开). Every answer carries
``data.error_code`` inside HTTP 200; that code decides. See docs/platforms/douyin.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import PurePosixPath
from typing import Any, ClassVar

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
from connectors.http import data_object, json_body, retry_after, send
from connectors.media import describe
from connectors.numbers import parse_count, parse_epoch, parse_int
from connectors.oauth import (
    REFRESH_EXPIRES_AT,
    AuthorizationFlow,
    Authorized,
    code_grant,
    first_credentials,
    refresh_grant,
    renewed,
    require_refresh,
    stored_moment,
)

PLATFORM = "douyin"

REFRESH_PATH = "/oauth/refresh_token/"
RENEW_PATH = "/oauth/renew_refresh_token/"
USERINFO_PATH = "/oauth/userinfo/"
UPLOAD_VIDEO_PATH = "/api/douyin/v1/video/upload_video/"
INIT_PART_PATH = "/api/douyin/v1/video/init_video_part_upload/"
UPLOAD_PART_PATH = "/api/douyin/v1/video/upload_video_part/"
COMPLETE_PART_PATH = "/api/douyin/v1/video/complete_video_part_upload/"
UPLOAD_IMAGE_PATH = "/api/douyin/v1/video/upload_image/"
CREATE_VIDEO_PATH = "/api/douyin/v1/video/create_video/"
CREATE_IMAGE_TEXT_PATH = "/api/douyin/v1/video/create_image_text/"
VIDEO_DATA_PATH = "/api/douyin/v1/video/video_data/"
VIDEO_LIST_PATH = "/api/douyin/v1/video/video_list/"

MB = 1024 * 1024
SINGLE_UPLOAD_BYTES = 50 * MB
"""Above this a video goes in parts: Douyin advises it over 50 MB and requires it over 128 MB."""
PART_BYTES = 20 * MB
MIN_PART_BYTES = 5 * MB
MAX_VIDEO_BYTES = 4 * 1024 * MB
MAX_IMAGES = 35
MAX_TEXT = 1000
LIST_PAGE = 20
MAX_LIST_PAGES = 5
"""How far back ``find_post`` reads the author's list (20 posts a page)."""

VIDEO_TYPES = frozenset({".mp4", ".webm", ".mov"})
IMAGE_TYPES = frozenset({".jpg", ".jpeg", ".png", ".webp"})

PUBLIC, REJECTED, IN_REVIEW = 1, 2, 4
"""``video_status``: 1 public, 2 不适宜公开 (failed review), 4 in review."""

# Error codes, old (21xxxxx) and new (28xxxxxx) generations alike.
ACCESS_EXPIRED = frozenset({10008, 2190008, 28001008, 2190002, 28001003})
REAUTHORISE = frozenset({10010, 10020, 28001012, 28001015, 28001045, 2190004, 28001018})
BUSY = frozenset({-1, 2100004, 28001005, 28001006})
THROTTLED = frozenset({28003018, 2118110, 28001052})
QUOTA_SPENT = frozenset({28003017, 2190001})
BEIJING = timezone(timedelta(hours=8))
RENEW_WITHIN = timedelta(days=15)
"""Renew the refresh token (30 days) once less than this is left, during a refresh."""


def _extension(media: Media) -> str:
    """The library file's extension (chosen from its bytes when it was stored)."""
    return PurePosixPath(media.library_file or "").suffix.lower()


def part_sizes(size: int) -> list[int]:
    """20 MB parts; a remainder under 5 MB joins the last part, so no part is under 5 MB
    unless the whole video is."""
    if size <= 0:
        raise ValueError("size must be positive")
    count, rest = divmod(size, PART_BYTES)
    if count == 0:
        return [size]
    if rest >= MIN_PART_BYTES:
        return [PART_BYTES] * count + [rest]
    return [PART_BYTES] * (count - 1) + [PART_BYTES + rest]


class DouyinConnector(BaseConnector):
    """One video or 1-35 pictures with a text, published through review.

    ``credentials``: ``access_token`` (scopes ``video.create.bind``, ``video.data.bind``,
    ``video.list.bind``), ``refresh_token``, ``client_id`` (the app's client key),
    ``client_secret``, ``user_id`` (the account's ``open_id``); ``extra.refresh_expires_at``
    is kept up to date by ``refresh_credentials``.
    """

    capabilities: ClassVar[Capabilities] = Capabilities(
        platform=PLATFORM,
        display_name="Douyin",
        max_text_length=MAX_TEXT,
        text_length_rule="characters",
        media_kinds=frozenset({MediaKind.VIDEO, MediaKind.IMAGE}),
        max_media=MAX_IMAGES,
        metrics_batch_size=20,
        publishes_async=True,
        interaction_counters=("likes", "comments", "shares", "forwards"),
        requires_media=True,
        views_available=True,
        supports_refresh=True,
        # Douyin sets quotas per scope and app in its console and publishes no numbers;
        # these keep well inside what its simulator enforces (docs/platforms/douyin.md).
        publish_rate_limit=RateLimitPolicy(requests=10, per_seconds=60),
        metrics_rate_limit=RateLimitPolicy(requests=600, per_seconds=60),
    )
    default_base_url: ClassVar[str] = "https://open.douyin.com"
    authorization: ClassVar[AuthorizationFlow] = AuthorizationFlow(
        authorize_url="https://open.douyin.com/platform/oauth/connect/",
        token_path="/oauth/access_token/",  # noqa: S106 - a URL path, not a secret
        scopes=("user_info", "video.create.bind", "video.data.bind", "video.list.bind"),
        scope_separator=",",
        client_param="client_key",
    )

    # -- validation -----------------------------------------------------------------------
    @classmethod
    def validate(cls, content: Content) -> list[Violation]:
        problems = check_common_rules(cls.capabilities, content)
        videos = [m for m in content.media if m.kind is MediaKind.VIDEO]
        images = [m for m in content.media if m.kind is MediaKind.IMAGE]
        if videos and (images or len(videos) > 1):
            problems.append(
                Violation(
                    "media",
                    f"{len(videos)} videos and {len(images)} images",
                    "Douyin posts carry one video or pictures, not both",
                )
            )
        allowed = {MediaKind.VIDEO: VIDEO_TYPES, MediaKind.IMAGE: IMAGE_TYPES}
        for index, item in enumerate(content.media):
            field = f"media[{index}]"
            if item.url is not None:
                problems.append(
                    Violation(
                        field,
                        describe(index, item)[1],
                        "must be a file in the media library: Douyin takes uploads only",
                    )
                )
            kinds = allowed.get(item.kind)
            if (
                item.library_file is not None
                and kinds is not None
                and _extension(item) not in kinds
            ):
                problems.append(
                    Violation(
                        field,
                        _extension(item) or "no extension",
                        f"is not a {item.kind.value} type Douyin accepts "
                        f"({', '.join(sorted(kinds))})",
                    )
                )
            if item.size_bytes is not None and item.size_bytes > MAX_VIDEO_BYTES:
                problems.append(Violation(field, f"{item.size_bytes} bytes", "exceeds 4 GB"))
        if len(content.text) > MAX_TEXT:
            problems.append(
                Violation(
                    "text",
                    f"{len(content.text)} characters",
                    f"exceeds Douyin's limit of {MAX_TEXT}",
                )
            )
        return problems

    # -- requests ---------------------------------------------------------------------------
    def _open_id(self) -> str:
        open_id = self.credentials.user_id
        if not open_id:
            raise ReauthorizationRequired(
                "no open_id is stored for this account; authorise it again", platform=PLATFORM
            )
        return open_id

    def _call(
        self,
        method: str,
        path: str,
        *,
        creates: bool = False,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        """Send an OpenAPI request and return its ``data`` (errors raised as typed)."""
        headers = {"access-token": self.credentials.access_token}
        kwargs: dict[str, Any] = {"params": {"open_id": self._open_id(), **(params or {})}}
        if body is not None:
            headers["Content-Type"] = "application/json"
            kwargs["content"] = json.dumps(body).encode("utf-8")
        if files is not None:
            kwargs["files"] = files
        response = send(
            self.http,
            method,
            path,
            platform=PLATFORM,
            classify=self._classify,
            creates=creates,
            headers=headers,
            **kwargs,
        )
        return data_object(response, path=path, platform=PLATFORM)

    def _classify(self, response: httpx.Response) -> ConnectorError | None:
        """Douyin's ``error_code`` (in ``data`` or ``extra``) decides, whatever the status."""
        body = json_body(response)
        if not isinstance(body, dict):
            return None
        code: int | None = None
        description = ""
        for part in (body.get("data"), body.get("extra")):
            if isinstance(part, dict) and parse_int(part.get("error_code")) not in (None, 0):
                code = parse_int(part.get("error_code"))
                description = str(part.get("description") or "")
                break
        if code is None:
            return None
        return self._error_for(code, description, response)

    def _error_for(self, code: int, description: str, response: httpx.Response) -> ConnectorError:
        text = f"{code}: {description}" if description else str(code)
        key = str(code)
        if code in ACCESS_EXPIRED:
            return AuthExpired(text, platform=PLATFORM, code=key)
        if code in REAUTHORISE:
            return ReauthorizationRequired(text, platform=PLATFORM, code=key)
        now = self.clock.now()
        if code in THROTTLED:
            at = retry_after(response, now=now) or now + timedelta(seconds=60)
            return RateLimited(text, platform=PLATFORM, code=key, retry_at=at)
        if code in QUOTA_SPENT:
            # Daily quotas start again at midnight, Beijing time.
            local = now.astimezone(BEIJING)
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            at = (midnight + timedelta(days=1)).astimezone(UTC)
            return RateLimited(text, platform=PLATFORM, code=key, retry_at=at)
        if code in BUSY or response.status_code >= 500:
            return TransientError(text, platform=PLATFORM, code=key)
        return ContentRejected(text, platform=PLATFORM, code=key)

    # -- publishing ---------------------------------------------------------------------------
    def publish(self, content: Content) -> PublishResult:
        problems = self.validate(content)
        if problems:
            raise ValidationFailed(problems, platform=PLATFORM)
        started = self.clock.now()
        body: dict[str, Any]
        if content.media[0].kind is MediaKind.VIDEO:
            video_id = self._upload_video(content.media[0])
            path, body = CREATE_VIDEO_PATH, {"video_id": video_id, "text": content.text}
        else:
            images = [{"image_id": self._upload_image(i, m)} for i, m in enumerate(content.media)]
            path, body = CREATE_IMAGE_TEXT_PATH, {"image_list": images, "text": content.text}
        try:
            data = self._call("POST", path, creates=True, body=body)
        except OutcomeUnknown as lost:
            return self._settle_lost_create(content, started, lost)
        remote = data.get("item_id")
        if not isinstance(remote, str) or not remote:
            raise ConnectorError(f"{path} returned no item_id", platform=PLATFORM)
        return PublishResult(
            state=PublishState.SUBMITTED, submission_id=remote, raw={"item_id": remote}
        )

    def _settle_lost_create(
        self, content: Content, started: datetime, lost: OutcomeUnknown
    ) -> PublishResult:
        """The answer to create was lost: look for the post in the author's list first.

        The list shows a post from the moment it is created, in review or not, so a post
        found there is ours to follow up; one not found stays unknown for the reconciler.
        """
        try:
            item = self._find_item(content, since=started - timedelta(minutes=1))
        except ConnectorError as exc:
            raise OutcomeUnknown(
                f"the answer to create was lost and the list could not be read ({exc})",
                platform=PLATFORM,
                code="create_unconfirmed",
            ) from lost
        if item is None:
            raise lost
        remote = str(item["item_id"])
        return PublishResult(
            state=PublishState.SUBMITTED, submission_id=remote, raw={"item_id": remote}
        )

    def _upload_video(self, video: Media) -> str:
        loaded = self.media.load(0, video, platform=PLATFORM)
        data, name, mime = loaded.data, loaded.name, loaded.content_type
        if len(data) <= SINGLE_UPLOAD_BYTES:
            answer = self._call("POST", UPLOAD_VIDEO_PATH, files={"video": (name, data, mime)})
        else:
            upload_id = self._call("POST", INIT_PART_PATH).get("upload_id")
            if not isinstance(upload_id, str) or not upload_id:
                raise ConnectorError(
                    "init_video_part_upload returned no upload_id", platform=PLATFORM
                )
            offset = 0
            for number, size in enumerate(part_sizes(len(data)), start=1):
                self._call(
                    "POST",
                    UPLOAD_PART_PATH,
                    params={"upload_id": upload_id, "part_number": number},
                    files={"video": (name, data[offset : offset + size], mime)},
                )
                offset += size
            answer = self._call("POST", COMPLETE_PART_PATH, params={"upload_id": upload_id})
        video_id = (answer.get("video") or {}).get("video_id")
        if not isinstance(video_id, str) or not video_id:
            raise ConnectorError("the upload returned no video_id", platform=PLATFORM)
        return video_id

    def _upload_image(self, index: int, image: Media) -> str:
        loaded = self.media.load(index, image, platform=PLATFORM)
        answer = self._call(
            "POST",
            UPLOAD_IMAGE_PATH,
            files={"image": (loaded.name, loaded.data, loaded.content_type)},
        )
        image_id = (answer.get("image") or {}).get("image_id")
        if not isinstance(image_id, str) or not image_id:
            raise ConnectorError("upload_image returned no image_id", platform=PLATFORM)
        return image_id

    def check_publish(self, submission_id: str) -> PublishResult:
        items = self._video_data([submission_id])
        if not items:
            raise RemoteNotFound(
                f"{submission_id} is not among the account's posts (deleted?)",
                platform=PLATFORM,
                code="not_found",
            )
        item = items[0]
        status = parse_int(item.get("video_status"))
        if status == REJECTED:
            raise ContentRejected(
                f"Douyin's review did not make {submission_id} public (video_status 2: "
                "不适宜公开, not suitable to be public)",
                platform=PLATFORM,
                code="review_rejected",
            )
        if status == PUBLIC and item.get("is_reviewed") is not False:
            return PublishResult(
                state=PublishState.PUBLISHED,
                remote_id=submission_id,
                url=str(item.get("share_url") or "") or None,
                submission_id=submission_id,
                published_at=parse_epoch(item.get("create_time")),
                raw=item,
            )
        return PublishResult(state=PublishState.SUBMITTED, submission_id=submission_id, raw=item)

    # -- reading ------------------------------------------------------------------------------
    def _video_data(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        data = self._call("POST", VIDEO_DATA_PATH, body={"item_ids": list(ids)})
        return [i for i in data.get("list") or [] if isinstance(i, dict) and i.get("item_id")]

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[MetricCounts]:
        results: list[MetricCounts] = []
        for batch in batched(list(remote_ids), self.capabilities.metrics_batch_size):
            for item in self._video_data(batch):
                stats = item.get("statistics")
                stats = stats if isinstance(stats, dict) else {}
                results.append(
                    MetricCounts(
                        remote_id=str(item["item_id"]),
                        views=parse_count(stats.get("play_count")),
                        likes=parse_count(stats.get("digg_count")),
                        comments=parse_count(stats.get("comment_count")),
                        shares=parse_count(stats.get("share_count")),
                        extras={
                            "forwards": parse_count(stats.get("forward_count")),
                            "downloads": parse_count(stats.get("download_count")),
                        },
                        raw=item,
                    )
                )
        return results

    def _find_item(self, content: Content, *, since: datetime) -> dict[str, Any] | None:
        """The newest item of the author's list with ``content``'s text, created since ``since``."""
        if not normalise_text(content.text):
            raise OutcomeUnknown(
                "a post without text cannot be matched on Douyin; check the account",
                platform=PLATFORM,
                code="ambiguous",
            )
        wanted = content_fingerprint(content.text)
        floor = since.replace(microsecond=0)
        cursor = 0
        for _ in range(MAX_LIST_PAGES):
            data = self._call("GET", VIDEO_LIST_PATH, params={"cursor": cursor, "count": LIST_PAGE})
            for item in data.get("list") or []:
                created = parse_epoch(item.get("create_time"))
                if created is not None and created < floor:
                    return None  # newest first: the rest are older still
                if content_fingerprint(str(item.get("title") or "")) == wanted:
                    return dict(item)
            cursor = parse_int(data.get("cursor")) or 0
            if not data.get("has_more") or not cursor:
                break
        return None

    def find_post(self, content: Content, *, since: datetime) -> RemotePost | None:
        """The public post with ``content``'s text; one still in review is not settled yet.

        Douyin lists an author's posts from the moment they are created, so "not listed"
        means "not posted". A post in review raises ``OutcomeUnknown`` (ask again later);
        one that failed review raises ``ContentRejected`` with the reason.
        """
        item = self._find_item(content, since=since)
        if item is None:
            return None
        remote = str(item["item_id"])
        status = parse_int(item.get("video_status"))
        if status == REJECTED:
            raise ContentRejected(
                f"{remote} was created but failed Douyin's review (video_status 2: 不适宜公开)",
                platform=PLATFORM,
                code="review_rejected",
            )
        if status != PUBLIC:
            raise OutcomeUnknown(
                f"{remote} was created and is still in Douyin's review",
                platform=PLATFORM,
                code="in_review",
            )
        return RemotePost(
            remote_id=remote,
            url=str(item.get("share_url") or "") or None,
            published_at=parse_epoch(item.get("create_time")),
            text=str(item.get("title") or ""),
        )

    # -- credentials ----------------------------------------------------------------------------
    def complete_authorization(
        self, *, code: str, redirect_uri: str, verifier: str | None
    ) -> Authorized:
        """Exchange the code (Douyin nests the answer in ``data``), then read the nickname."""
        app, now = self.credentials, self.clock.now()
        answer = code_grant(
            self.http,
            self.authorization,
            platform=PLATFORM,
            classify=self._classify,
            form={
                "client_key": app.client_id or "",
                "client_secret": app.client_secret or "",
                "code": code,
                "grant_type": "authorization_code",
            },
            unwrap=_envelope_data,
        )
        open_id = str(answer.body.get("open_id") or "")
        info = self._oauth(USERINFO_PATH, {"access_token": answer.access_token, "open_id": open_id})
        credentials = first_credentials(
            answer,
            client_id=app.client_id or "",
            client_secret=app.client_secret,
            now=now,
            user_id=open_id or None,
        )
        return Authorized(credentials=credentials, handle=str(info.get("nickname") or open_id))

    def refresh_credentials(self) -> Credentials:
        """A new access token (15 days); the refresh token is renewed once under 15 days are left.

        ``/oauth/refresh_token/`` keeps the refresh token and its expiry; renewing it
        (``/oauth/renew_refresh_token/``, at most five times) replaces it, and the old one stops
        working, so the caller must store what this returns.
        """
        current, now = self.credentials, self.clock.now()
        require_refresh(current, platform=PLATFORM, now=now)
        client_key = current.client_id or ""
        answer = refresh_grant(
            self.http,
            REFRESH_PATH,
            platform=PLATFORM,
            classify=self._classify,
            form={
                "client_key": client_key,
                "grant_type": "refresh_token",
                "refresh_token": current.refresh_token or "",
            },
            unwrap=_envelope_data,
        )
        fresh = renewed(current, answer, now=now, user_id=str(answer.body.get("open_id") or ""))
        refresh_expiry = stored_moment(fresh.extra.get(REFRESH_EXPIRES_AT))
        if refresh_expiry is not None and refresh_expiry - now < RENEW_WITHIN:
            renewal = self._renew(client_key, fresh.refresh_token or "")
            if renewal is not None:
                token, lifetime_left = renewal
                extra = {**fresh.extra, REFRESH_EXPIRES_AT: (now + lifetime_left).isoformat()}
                fresh = replace(fresh, refresh_token=token, extra=extra)
        return fresh

    def _renew(self, client_key: str, refresh_token: str) -> tuple[str, timedelta] | None:
        """A new refresh token, or ``None`` when it cannot be had now: Douyin renews no more
        (10020) or the call failed. The current refresh token then serves on (the next refresh
        tries again), and the new access token is not lost to a failed renewal."""
        try:
            data = self._oauth(
                RENEW_PATH, {"client_key": client_key, "refresh_token": refresh_token}
            )
        except ConnectorError:
            return None
        new, lifetime = data.get("refresh_token"), parse_int(data.get("expires_in"))
        if not isinstance(new, str) or not new or lifetime is None:
            raise ConnectorError(
                "renew_refresh_token answered without refresh_token and expires_in",
                platform=PLATFORM,
            )
        return new, timedelta(seconds=lifetime)

    def _oauth(self, path: str, form: Mapping[str, str]) -> dict[str, Any]:
        response = send(
            self.http, "POST", path, platform=PLATFORM, classify=self._classify, data=dict(form)
        )
        return data_object(response, path=path, platform=PLATFORM)


def _envelope_data(body: Any) -> dict[str, Any]:
    """Douyin's OAuth answers carry the token fields inside ``data``."""
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}
