"""X (Twitter) API v2: publish posts with media, read public metrics, reconcile, refresh tokens.

Flows (https://docs.x.com/x-api): media goes up in chunks (``/2/media/upload/initialize``,
``/{id}/append``, ``/{id}/finalize``, then ``STATUS`` while a GIF or video is processed) and
``POST /2/tweets`` creates the post in one call. Counters come from ``GET /2/tweets?ids=``
(at most 100 ids) as ``public_metrics``; a lost create is found again on the account's
timeline (``GET /2/users/:id/tweets``) by the fingerprint of its text, since X keeps no
idempotency key. Errors are RFC 7807 problem objects; 429 carries ``x-rate-limit-reset``.
"""

from __future__ import annotations

import base64
import html
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from connectors import twitter_text
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
    DuplicateContent,
    OutcomeUnknown,
    RateLimited,
    ReauthorizationRequired,
    RemoteNotFound,
    TransientError,
    ValidationFailed,
    Violation,
)
from connectors.fingerprint import content_fingerprint
from connectors.http import Classifier, json_body, retry_after, send
from connectors.media import MediaLoader
from connectors.numbers import parse_count
from connectors.oauth import (
    AuthorizationFlow,
    Authorized,
    code_grant,
    first_credentials,
    refresh_grant,
    renewed,
    require_refresh,
)
from publicist.core.clock import Clock, system_clock

PLATFORM = "twitter"
LOOKUP_BATCH = 100
CHUNK_BYTES = 4 * 1024 * 1024
"""APPEND segments; X documents at most 5 MB per segment."""
MEDIA_WAIT_SECONDS = 60.0
"""Longest wait for X to process a GIF or video; kept well inside a publish lease."""
TIMELINE_PAGES = 5
TOKEN_PATH = "/2/oauth2/token"  # noqa: S105 - a URL path, not a secret
ALT_TEXT_LIMIT = 1000

SIZE_LIMITS: Mapping[MediaKind, int] = {
    MediaKind.IMAGE: 5 * 1024 * 1024,
    MediaKind.GIF: 15 * 1024 * 1024,
    MediaKind.VIDEO: 512 * 1024 * 1024,
}
MEDIA_TYPES: Mapping[MediaKind, frozenset[str]] = {
    MediaKind.IMAGE: frozenset({"image/jpeg", "image/png", "image/webp"}),
    MediaKind.GIF: frozenset({"image/gif"}),
    MediaKind.VIDEO: frozenset({"video/mp4", "video/quicktime"}),
}
CATEGORIES: Mapping[MediaKind, str] = {
    MediaKind.IMAGE: "tweet_image",
    MediaKind.GIF: "tweet_gif",
    MediaKind.VIDEO: "tweet_video",
}

# Problem types meaning the token can never do this, whatever we retry: a person must act.
_REAUTHORIZE_TYPES = ("unsupported-authentication", "client-forbidden", "oauth1-permissions")


def _problem(response: httpx.Response) -> tuple[str, str]:
    """The platform's reason and problem type, from whichever envelope X used."""
    body = json_body(response)
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}", ""
    kind = str(body.get("type") or "")
    reason = body.get("detail") or body.get("title") or body.get("error_description")
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        reason = reason or first.get("detail") or first.get("message")
        kind = kind or str(first.get("type") or "")
    return str(reason or body.get("error") or f"HTTP {response.status_code}"), kind


def rate_limit_reset(response: httpx.Response) -> datetime | None:
    """When the exhausted window reopens: ``x-rate-limit-reset`` and the 24-hour caps (epoch s)."""
    moments: list[datetime] = []
    fallback: datetime | None = None
    for prefix in ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour"):
        reset = response.headers.get(f"{prefix}-reset", "").strip()
        if not reset.isdigit():
            continue
        moment = datetime.fromtimestamp(int(reset), UTC)
        if response.headers.get(f"{prefix}-remaining", "").strip() == "0":
            moments.append(moment)
        elif prefix == "x-rate-limit":
            fallback = moment
    if moments:
        return max(moments)
    return fallback or retry_after(response)


def classifier(*, creates: bool = False) -> Classifier:
    """Map X's statuses and problem objects to typed errors.

    A 5xx on a create becomes ``OutcomeUnknown``: X may have created the post before failing,
    and a blind retry would then be refused as a duplicate, so the caller reconciles first.
    """

    def classify(response: httpx.Response) -> ConnectorError | None:
        status = response.status_code
        if status < 400:
            return None
        reason, kind = _problem(response)
        code = str(status)
        if status == 429:
            return RateLimited(
                f"rate limited: {reason}",
                platform=PLATFORM,
                code=kind.rsplit("/", 1)[-1] or code,
                retry_at=rate_limit_reset(response),
            )
        if status == 401:
            return AuthExpired(f"token refused: {reason}", platform=PLATFORM, code=code)
        if status == 403:
            if "duplicate" in reason.lower():
                return DuplicateContent(reason, platform=PLATFORM, code=code)
            if kind.endswith(_REAUTHORIZE_TYPES) or "scope" in reason.lower():
                return ReauthorizationRequired(reason, platform=PLATFORM, code=code)
            return ContentRejected(reason, platform=PLATFORM, code=code)
        if status == 404:
            return RemoteNotFound(reason, platform=PLATFORM, code=code)
        if status >= 500:
            if creates:
                return OutcomeUnknown(
                    f"HTTP {status} while creating the post ({reason})",
                    platform=PLATFORM,
                    code=code,
                )
            return TransientError(f"HTTP {status}: {reason}", platform=PLATFORM, code=code)
        return ContentRejected(reason, platform=PLATFORM, code=code)

    return classify


def _data(response: httpx.Response) -> dict[str, Any]:
    body = json_body(response)
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class TwitterConnector(BaseConnector):
    """X API v2 with an OAuth 2.0 user token (``tweet.write media.write offline.access``)."""

    capabilities: ClassVar[Capabilities] = Capabilities(
        platform=PLATFORM,
        display_name="X (Twitter)",
        max_text_length=twitter_text.MAX_WEIGHTED_LENGTH,
        text_length_rule=(
            "weighted characters (twitter-text v3: CJK and emoji count 2, every URL counts 23)"
        ),
        media_kinds=frozenset({MediaKind.IMAGE, MediaKind.GIF, MediaKind.VIDEO}),
        max_media=4,
        metrics_batch_size=LOOKUP_BATCH,
        publishes_async=False,
        interaction_counters=("likes", "comments", "shares", "quotes", "bookmarks"),
        views_available=True,
        supports_refresh=True,
        publish_rate_limit=RateLimitPolicy(requests=100, per_seconds=15 * 60),
        # GET /2/tweets: 5,000 per 15 minutes per user (research 6.3).
        metrics_rate_limit=RateLimitPolicy(requests=5_000, per_seconds=15 * 60),
        # Per app, for all the accounts that authorised it: POST /2/tweets 10,000 per 24 h,
        # GET /2/tweets 3,500 per 15 minutes (research 1.5).
        app_publish_rate_limit=RateLimitPolicy(requests=10_000, per_seconds=24 * 3600),
        app_metrics_rate_limit=RateLimitPolicy(requests=3_500, per_seconds=15 * 60),
    )
    default_base_url: ClassVar[str] = "https://api.x.com"
    authorization: ClassVar[AuthorizationFlow] = AuthorizationFlow(
        authorize_url="https://x.com/i/oauth2/authorize",
        token_path=TOKEN_PATH,
        # Publishing (tweet.write, media.write), metrics and reconciliation (tweet.read,
        # users.read) and refreshing without a person (offline.access).
        scopes=("tweet.read", "tweet.write", "users.read", "offline.access", "media.write"),
        pkce=True,
    )

    def __init__(
        self,
        credentials: Credentials,
        *,
        http: httpx.Client,
        clock: Clock = system_clock,
        sleep: Callable[[float], None] = time.sleep,
        media: MediaLoader | None = None,
    ) -> None:
        super().__init__(credentials, http=http, clock=clock, media=media)
        # Only media processing waits (X gives no way to create the post before it ends).
        self._sleep = sleep

    # -- validation -------------------------------------------------------------------------
    @classmethod
    def validate(cls, content: Content) -> list[Violation]:
        problems = check_common_rules(cls.capabilities, content)
        parsed = twitter_text.parse(content.text)
        if parsed.weighted_length > twitter_text.MAX_WEIGHTED_LENGTH:
            problems.append(
                Violation(
                    "text",
                    f"{parsed.weighted_length} weighted characters",
                    f"exceeds X's limit of {twitter_text.MAX_WEIGHTED_LENGTH} (CJK characters "
                    f"and emoji count 2, each URL counts {twitter_text.URL_LENGTH})",
                )
            )
        if parsed.invalid_characters:
            shown = ", ".join(f"U+{ord(c):04X}" for c in parsed.invalid_characters)
            problems.append(Violation("text", shown, "is not allowed in an X post"))
        kinds = [item.kind for item in content.media]
        if len(kinds) > 1 and (MediaKind.GIF in kinds or MediaKind.VIDEO in kinds):
            shown = " + ".join(kind.value for kind in kinds)
            problems.append(
                Violation("media", shown, "X takes up to 4 images, or 1 GIF, or 1 video alone")
            )
        for index, item in enumerate(content.media):
            problems.extend(cls._media_rules(index, item))
        return problems

    @staticmethod
    def _media_rules(index: int, item: Media) -> list[Violation]:
        field = f"media[{index}]"
        problems: list[Violation] = []
        if item.kind not in SIZE_LIMITS:
            return problems  # already reported by the common rules
        if item.mime_type and item.mime_type not in MEDIA_TYPES[item.kind]:
            allowed = ", ".join(sorted(MEDIA_TYPES[item.kind]))
            problems.append(
                Violation(field, item.mime_type, f"is not an X {item.kind.value} ({allowed})")
            )
        limit = SIZE_LIMITS[item.kind]
        if item.size_bytes is not None and item.size_bytes > limit:
            problems.append(
                Violation(
                    field,
                    f"{item.size_bytes} bytes",
                    f"exceeds X's {limit // (1024 * 1024)} MB limit for a {item.kind.value}",
                )
            )
        if item.alt_text is not None and len(item.alt_text) > ALT_TEXT_LIMIT:
            problems.append(
                Violation(
                    f"{field}.alt_text",
                    f"{len(item.alt_text)} characters",
                    f"exceeds X's limit of {ALT_TEXT_LIMIT}",
                )
            )
        return problems

    # -- requests ---------------------------------------------------------------------------
    def _send(
        self, method: str, url: str, *, creates: bool = False, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.credentials.access_token}"}
        return send(
            self.http,
            method,
            url,
            platform=PLATFORM,
            classify=classifier(creates=creates),
            creates=creates,
            headers=headers,
            **kwargs,
        )

    def _post_url(self, tweet_id: str) -> str:
        username = self.credentials.extra.get("username", "").lstrip("@")
        if username:
            return f"https://x.com/{username}/status/{tweet_id}"
        return f"https://x.com/i/web/status/{tweet_id}"

    # -- publishing -------------------------------------------------------------------------
    def publish(self, content: Content) -> PublishResult:
        problems = self.validate(content)
        if problems:
            raise ValidationFailed(problems, platform=PLATFORM)
        # Every file is read and checked before the first upload, so a bad one costs no call.
        files = [self._read_media(index, item) for index, item in enumerate(content.media)]
        media_ids = [
            self._upload(item, data, mime)
            for item, (data, mime) in zip(content.media, files, strict=True)
        ]
        body: dict[str, Any] = {}
        if content.text.strip():
            body["text"] = content.text
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        response = self._send("POST", "/2/tweets", json=body, creates=True)
        tweet_id = _data(response).get("id")
        if not tweet_id:
            reason, _ = _problem(response)
            raise ContentRejected(
                f"X accepted the request but returned no post: {reason}", platform=PLATFORM
            )
        raw = json_body(response)
        return PublishResult(
            state=PublishState.PUBLISHED,
            remote_id=str(tweet_id),
            url=self._post_url(str(tweet_id)),
            published_at=self.clock.now(),
            raw=raw if isinstance(raw, dict) else {},
        )

    def check_publish(self, submission_id: str) -> PublishResult:
        raise RemoteNotFound(
            f"X publishes synchronously; there is no submission {submission_id!r} to poll",
            platform=PLATFORM,
        )

    def _read_media(self, index: int, item: Media) -> tuple[bytes, str]:
        """The file's bytes and type (read from the bytes); X does not fetch URLs itself."""
        # The loader accepts exactly X's types (JPEG/PNG/WebP, GIF, MP4/MOV) and sizes.
        loaded = self.media.load(index, item, platform=PLATFORM)
        return loaded.data, loaded.content_type

    def _upload(self, item: Media, data: bytes, mime: str) -> str:
        init = self._send(
            "POST",
            "/2/media/upload/initialize",
            json={
                "media_type": mime,
                "total_bytes": len(data),
                "media_category": CATEGORIES[item.kind],
            },
        )
        media_id = str(_data(init).get("id") or "")
        if not media_id:
            raise TransientError("X returned no media id for the upload", platform=PLATFORM)
        for segment, offset in enumerate(range(0, len(data), CHUNK_BYTES)):
            chunk = data[offset : offset + CHUNK_BYTES]
            self._send(
                "POST",
                f"/2/media/upload/{media_id}/append",
                data={"segment_index": str(segment)},
                files={"media": ("chunk", chunk, "application/octet-stream")},
            )
        finalized = self._send("POST", f"/2/media/upload/{media_id}/finalize")
        self._await_processing(media_id, _data(finalized).get("processing_info"))
        if item.alt_text:
            self._send(
                "POST",
                "/2/media/metadata",
                json={"id": media_id, "metadata": {"alt_text": {"text": item.alt_text}}},
            )
        return media_id

    def _await_processing(self, media_id: str, info: Any) -> None:
        waited = 0.0
        while isinstance(info, dict) and info.get("state") in ("pending", "in_progress"):
            delay = float(max(1, int(info.get("check_after_secs") or 1)))
            if waited + delay > MEDIA_WAIT_SECONDS:
                raise TransientError(
                    f"X is still processing media {media_id} after {waited:.0f} s",
                    platform=PLATFORM,
                )
            self._sleep(delay)
            waited += delay
            status = self._send(
                "GET", "/2/media/upload", params={"command": "STATUS", "media_id": media_id}
            )
            info = _data(status).get("processing_info")
        if isinstance(info, dict) and info.get("state") == "failed":
            found = info.get("error")
            error: dict[str, Any] = found if isinstance(found, dict) else {}
            reason = error.get("message") or error.get("name") or "processing failed"
            raise ContentRejected(
                f"X could not process the media: {reason}",
                platform=PLATFORM,
                code=str(error.get("code") or "") or None,
            )

    # -- reconciliation ---------------------------------------------------------------------
    def _user_id(self) -> str:
        if self.credentials.user_id:
            return self.credentials.user_id
        user_id = _data(self._send("GET", "/2/users/me")).get("id")
        if not user_id:
            raise TransientError("X did not say who the token belongs to", platform=PLATFORM)
        return str(user_id)

    def find_post(self, content: Content, *, since: datetime) -> RemotePost | None:
        """Our post on the account's timeline since ``since``, matched by its text's fingerprint.

        X rewrites links to t.co and HTML-escapes ``&<>`` in the text it returns; the
        fingerprint ignores links, and the escaping is undone before comparing.
        """
        wanted = content_fingerprint(content.text)
        params: dict[str, str] = {
            "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "max_results": "100",
            "tweet.fields": "created_at,text",
            "exclude": "retweets,replies",
        }
        path = f"/2/users/{self._user_id()}/tweets"
        for _ in range(TIMELINE_PAGES):
            body = json_body(self._send("GET", path, params=params))
            body = body if isinstance(body, dict) else {}
            for tweet in body.get("data") or []:
                text = html.unescape(str(tweet.get("text") or ""))
                if content_fingerprint(text) == wanted:
                    tweet_id = str(tweet["id"])
                    return RemotePost(
                        remote_id=tweet_id,
                        url=self._post_url(tweet_id),
                        published_at=_parse_time(tweet.get("created_at")),
                        text=text,
                    )
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return None
            params["pagination_token"] = str(token)
        return None

    # -- metrics ----------------------------------------------------------------------------
    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[MetricCounts]:
        """Lifetime counters, 100 ids per request; ids X cannot find (deleted) are omitted."""
        # A malformed id fails X's whole request; it cannot name a post, so leave it out.
        ids = [str(i) for i in remote_ids if str(i).isdigit()]
        results: list[MetricCounts] = []
        for batch in batched(ids, LOOKUP_BATCH):
            response = self._send(
                "GET",
                "/2/tweets",
                params={"ids": ",".join(batch), "tweet.fields": "public_metrics,created_at"},
            )
            body = json_body(response)
            for tweet in (body.get("data") if isinstance(body, dict) else None) or []:
                results.append(self._counts(tweet))
        return results

    @staticmethod
    def _counts(tweet: Mapping[str, Any]) -> MetricCounts:
        metrics = tweet.get("public_metrics")
        metrics = metrics if isinstance(metrics, dict) else {}
        return MetricCounts(
            remote_id=str(tweet["id"]),
            views=parse_count(metrics.get("impression_count")),
            likes=parse_count(metrics.get("like_count")),
            comments=parse_count(metrics.get("reply_count")),
            shares=parse_count(metrics.get("retweet_count")),
            extras={
                "quotes": parse_count(metrics.get("quote_count")),
                "bookmarks": parse_count(metrics.get("bookmark_count")),
            },
            raw=dict(tweet),
        )

    # -- credentials ------------------------------------------------------------------------
    def complete_authorization(
        self, *, code: str, redirect_uri: str, verifier: str | None
    ) -> Authorized:
        """Exchange the code (with the PKCE verifier) and ask X whose account it is.

        ``self.credentials`` carries only the app's client id (and secret, if confidential).
        """
        app, now = self.credentials, self.clock.now()
        answer = code_grant(
            self.http,
            self.authorization,
            platform=PLATFORM,
            classify=classifier(),
            form={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier or "",
                "client_id": app.client_id or "",
            },
            headers=self._client_auth(app),
        )
        response = send(
            self.http,
            "GET",
            "/2/users/me",
            platform=PLATFORM,
            classify=classifier(),
            headers={"Authorization": f"Bearer {answer.access_token}"},
        )
        user = _data(response)
        username = str(user.get("username") or "")
        credentials = first_credentials(
            answer,
            client_id=app.client_id or "",
            client_secret=app.client_secret,
            now=now,
            user_id=str(user.get("id") or "") or None,
            extra={"username": username},
        )
        return Authorized(credentials=credentials, handle=username)

    @staticmethod
    def _client_auth(app: Credentials) -> dict[str, str]:
        """A confidential client authenticates itself with HTTP Basic; a public one does not."""
        if not app.client_secret:
            return {}
        pair = f"{app.client_id}:{app.client_secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}

    def refresh_credentials(self) -> Credentials:
        """Trade the refresh token for a new pair; X rotates it, so the old one is spent."""
        current, now = self.credentials, self.clock.now()
        require_refresh(
            current,
            platform=PLATFORM,
            now=now,
            missing="no refresh token is stored (offline.access was not granted)",
        )
        headers = self._client_auth(current)
        answer = refresh_grant(
            self.http,
            TOKEN_PATH,
            platform=PLATFORM,
            classify=classifier(),
            form={
                "grant_type": "refresh_token",
                "refresh_token": current.refresh_token or "",
                "client_id": current.client_id or "",
            },
            headers=headers,
        )
        return renewed(current, answer, now=now)
