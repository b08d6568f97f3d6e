"""Sina Weibo Open API v2: share a status with a link (and one picture), count interactions.

- ``POST /2/statuses/share.json`` publishes: form-urlencoded, or multipart with ``pic``.
- ``GET /2/statuses/count.json`` gives reposts, comments and attitudes (likes) for up to
  100 ids; Weibo shows ordinary apps no view count, so views are not available.
- ``GET /2/statuses/user_timeline.json`` lists the account's recent posts, to find one
  whose response was lost (Weibo keeps no client idempotency key).
- ``POST /oauth2/access_token`` refreshes only tokens that came with a refresh token; web
  apps get none, so an expired token means a person must authorise the account again.

Account settings in ``credentials.extra``: ``safe_domain`` (the app's 安全域名, comma-separated
if several: every status must link to one) and ``rip`` (the operating user's real IP, which
share.json requires).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
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
from connectors.http import Classifier, json_body, send
from connectors.media import describe
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
from connectors.weibo_text import (
    WeiboTextRules,
    links,
    on_safe_domain,
    parse_domains,
    topics,
)

PLATFORM = "weibo"
MAX_PICTURE_BYTES = 5 * 1024 * 1024  # share.json: "< 5M"
PICTURE_TYPES: Mapping[str, str] = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
}
POST_URL = "https://m.weibo.cn/status/{id}"

# Weibo's error codes (open.weibo.com/wiki/Error_code), grouped by what the scheduler must do.
_TRANSIENT = frozenset({10001, 10002, 10003, 10009, 10011})
# A system or RPC error may strike after the status was stored: reconcile before retrying.
_AMBIGUOUS_WHEN_CREATING = frozenset({10001, 10003, 10011})
_RATE_LIMITED = frozenset({10022, 10023, 10024, 20016, 20022})
_TOKEN = frozenset({21301, 21314, 21315, 21316, 21317, 21319, 21327, 21332, 21501})
_OAUTH_GRANT = frozenset({21323, 21324, 21325, 21326, 21330})
_NEEDS_A_PERSON = frozenset({10014, 21321})
_DUPLICATE = frozenset({20017, 20019, 20111, 40025})
_NOT_FOUND = frozenset({20101})
# "Update success, server slow": the status exists but Weibo did not return it.
_STORED_WITHOUT_BODY = 20032

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}


def parse_created_at(value: object) -> datetime | None:
    """Weibo's ``"Wed Oct 24 23:49:17 +0800 2012"``, read without the locale's month names."""
    if not isinstance(value, str):
        return None
    parts = value.split()
    if len(parts) != 6 or parts[1] not in _MONTHS:
        return None
    _, month, day, clock, offset, year = parts
    try:
        hours, minutes, seconds = (int(piece) for piece in clock.split(":"))
        sign = -1 if offset.startswith("-") else 1
        shift = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
        zone = timezone(sign * shift)
        moment = datetime(int(year), _MONTHS[month], int(day), hours, minutes, seconds, tzinfo=zone)
    except ValueError:
        return None
    return moment.astimezone(UTC)


def _status_id(status: Mapping[str, Any]) -> str | None:
    """``idstr`` first: the int64 ``id`` loses digits in any JSON reader that uses doubles."""
    for key in ("idstr", "mid", "id"):
        value = status.get(key)
        if isinstance(value, str) and value.isdigit():
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


class WeiboConnector(BaseConnector):
    """Publishes through ``statuses/share`` and reads ``statuses/count``."""

    capabilities: ClassVar[Capabilities] = Capabilities(
        platform=PLATFORM,
        display_name="Weibo",
        max_text_length=140,
        text_length_rule="汉字 units (ASCII ½, emoji 2, each link 10; a safe-domain link required)",
        media_kinds=frozenset({MediaKind.IMAGE, MediaKind.GIF}),
        max_media=1,
        metrics_batch_size=100,
        publishes_async=False,
        interaction_counters=("likes", "comments", "shares"),
        views_available=False,
        supports_refresh=False,
        publish_rate_limit=RateLimitPolicy(requests=30, per_seconds=3600),
        # 150 calls per hour per user and app in all; a third is left for publishing.
        metrics_rate_limit=RateLimitPolicy(requests=100, per_seconds=3600),
    )
    default_base_url: ClassVar[str] = "https://api.weibo.com"
    authorization: ClassVar[AuthorizationFlow] = AuthorizationFlow(
        authorize_url="https://api.weibo.com/oauth2/authorize",
        token_path="/oauth2/access_token",  # noqa: S106 - a URL path, not a secret
        scopes=("all",),
        # A web app's token is not refreshable: it lapses, and a person connects again.
        refreshable=False,
    )
    text_rules: ClassVar[WeiboTextRules] = WeiboTextRules()
    timeline_page_size: ClassVar[int] = 100
    timeline_pages: ClassVar[int] = 5
    """How far back ``find_post`` looks: pages of the account's own timeline, newest first."""

    # -- validation ----------------------------------------------------------------------
    @classmethod
    def validate(cls, content: Content) -> list[Violation]:
        problems = super().validate(content)
        text = content.text
        if not text.strip() and content.media:
            problems.append(Violation("text", "''", "must not be empty: Weibo shares need text"))
        if cls.text_rules.too_long(text):
            problems.append(
                Violation(
                    "text",
                    f"{cls.text_rules.length(text)} 汉字 units",
                    f"exceeds Weibo's limit of {cls.text_rules.limit} "
                    "(汉字 1, ASCII ½, emoji 2, each link 10)",
                )
            )
        found_topics = topics(text)
        if found_topics:
            problems.append(
                Violation(
                    "text",
                    ", ".join(found_topics),
                    "is a #topic#, which Weibo's share API does not accept",
                )
            )
        if text.strip() and not links(text):
            problems.append(
                Violation(
                    "text",
                    "no link",
                    "must contain a link on the app's safe domain (Weibo's share API needs one)",
                )
            )
        for index, item in enumerate(content.media):
            if item.kind in cls.capabilities.media_kinds:  # others are refused as a whole
                problems.extend(cls._media_violations(index, item))
        return problems

    @staticmethod
    def _media_violations(index: int, item: Media) -> list[Violation]:
        """What the entry declares; the bytes themselves are checked when they are loaded."""
        field = f"media[{index}]"
        problems: list[Violation] = []
        allowed = set(PICTURE_TYPES.values())
        suffix = PurePosixPath(urlsplit(item.url).path).suffix.lower() if item.url else ""
        if item.mime_type is not None and item.mime_type.lower() not in allowed:
            problems.append(Violation(field, item.mime_type, "is not a JPEG, PNG or GIF picture"))
        elif item.mime_type is None and suffix and suffix not in PICTURE_TYPES:
            problems.append(Violation(field, suffix, "is not a JPEG, PNG or GIF picture"))
        if item.size_bytes is not None and item.size_bytes >= MAX_PICTURE_BYTES:
            problems.append(
                Violation(field, f"{item.size_bytes} bytes", "must be smaller than 5 MB on Weibo")
            )
        return problems

    def account_violations(self, content: Content) -> list[Violation]:
        """Rules that depend on the account: its safe domain and the ``rip`` it reports."""
        problems: list[Violation] = []
        domains = parse_domains(self.credentials.extra.get("safe_domain"))
        urls = links(content.text)
        if domains and urls and not any(on_safe_domain(url, domains) for url in urls):
            problems.append(
                Violation(
                    "text",
                    ", ".join(urls),
                    f"must include a link on the app's safe domain ({', '.join(domains)}); "
                    "Weibo refuses others (10017)",
                )
            )
        rip = self.credentials.extra.get("rip", "")
        try:
            ipaddress.ip_address(rip)
        except ValueError:
            problems.append(
                Violation(
                    "credentials.extra.rip",
                    repr(rip),
                    "must be the operating user's real IP address, which share.json requires",
                )
            )
        return problems

    def _picture(
        self, content: Content, problems: list[Violation]
    ) -> tuple[str, bytes, str] | None:
        """The picture's name, bytes and type, unless its description is already refused."""
        if not content.media or any(p.field.startswith("media") for p in problems):
            return None
        item = content.media[0]
        try:
            loaded = self.media.load(0, item, platform=PLATFORM)
        except ValidationFailed as refused:
            problems.extend(refused.violations)
            return None
        _, described = describe(0, item)
        if loaded.content_type not in PICTURE_TYPES.values():
            problems.append(Violation("media[0]", described, "is not a JPEG, PNG or GIF picture"))
        if len(loaded.data) >= MAX_PICTURE_BYTES:
            problems.append(
                Violation(
                    "media[0]", f"{len(loaded.data)} bytes", "must be smaller than 5 MB on Weibo"
                )
            )
        return (loaded.name, loaded.data, loaded.content_type)

    # -- publishing ----------------------------------------------------------------------
    def publish(self, content: Content) -> PublishResult:
        problems = self.validate(content) + self.account_violations(content)
        picture = self._picture(content, problems)
        if problems:
            raise ValidationFailed(problems, platform=PLATFORM)
        form = {
            "access_token": self.credentials.access_token,
            "status": content.text,
            "rip": self.credentials.extra["rip"],
        }
        files = {"pic": picture} if picture else None
        response = self._send(
            "POST", "/2/statuses/share.json", creates=True, data=form, files=files
        )
        status = json_body(response)
        remote_id = _status_id(status) if isinstance(status, dict) else None
        if not isinstance(status, dict) or remote_id is None:
            raise OutcomeUnknown(
                "Weibo answered the share without a status id; the post may exist",
                platform=PLATFORM,
            )
        return PublishResult(
            state=PublishState.PUBLISHED,
            remote_id=remote_id,
            url=POST_URL.format(id=remote_id),
            published_at=parse_created_at(status.get("created_at")) or self.clock.now(),
            raw=status,
        )

    def check_publish(self, submission_id: str) -> PublishResult:
        raise RemoteNotFound(
            f"Weibo publishes immediately; there is no publish job {submission_id!r}",
            platform=PLATFORM,
        )

    def find_post(self, content: Content, *, since: datetime) -> RemotePost | None:
        """Match this app's recent posts by text fingerprint (Weibo rewrites links to t.cn)."""
        wanted = content_fingerprint(content.text)
        for page in range(1, self.timeline_pages + 1):
            response = self._send(
                "GET",
                "/2/statuses/user_timeline.json",
                params={
                    "count": self.timeline_page_size,
                    "page": page,
                    "base_app": 1,
                    "trim_user": 1,
                },
            )
            body = json_body(response)
            statuses = body.get("statuses") if isinstance(body, dict) else None
            if not isinstance(statuses, list):
                raise TransientError("user_timeline answered without statuses", platform=PLATFORM)
            for status in statuses:
                if not isinstance(status, dict):
                    continue
                created = parse_created_at(status.get("created_at"))
                if created is not None and created < since:
                    return None  # newest first: everything further is older still
                text = status.get("text")
                remote_id = _status_id(status)
                if isinstance(text, str) and remote_id and content_fingerprint(text) == wanted:
                    return RemotePost(
                        remote_id=remote_id,
                        url=POST_URL.format(id=remote_id),
                        published_at=created,
                        text=text,
                    )
            if len(statuses) < self.timeline_page_size:
                return None
        return None

    # -- metrics -------------------------------------------------------------------------
    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[MetricCounts]:
        """Reposts, comments and attitudes; deleted or hidden ids are simply absent."""
        unique = list(dict.fromkeys(str(remote_id) for remote_id in remote_ids))
        results: list[MetricCounts] = []
        for batch in batched(unique, self.capabilities.metrics_batch_size):
            response = self._send("GET", "/2/statuses/count.json", params={"ids": ",".join(batch)})
            body = json_body(response)
            if not isinstance(body, list):
                raise TransientError("count.json answered without a list", platform=PLATFORM)
            by_id = {
                status_id: item
                for item in body
                if isinstance(item, dict) and (status_id := _status_id(item)) is not None
            }
            for remote_id in batch:
                item = by_id.get(remote_id)
                if item is None:
                    continue
                results.append(
                    MetricCounts(
                        remote_id=remote_id,
                        views=None,
                        likes=parse_count(item.get("attitudes")),
                        comments=parse_count(item.get("comments")),
                        shares=parse_count(item.get("reposts")),
                        raw=item,
                    )
                )
        return results

    # -- credentials ---------------------------------------------------------------------
    def complete_authorization(
        self, *, code: str, redirect_uri: str, verifier: str | None
    ) -> Authorized:
        """Exchange the code; the answer names the user (``uid``), ``users/show`` its name."""
        app, now = self.credentials, self.clock.now()
        answer = code_grant(
            self.http,
            self.authorization,
            platform=PLATFORM,
            classify=self._classifier(creates=False),
            form={
                "client_id": app.client_id or "",
                "client_secret": app.client_secret or "",
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
            },
        )
        uid = str(answer.body.get("uid") or "")
        response = send(
            self.http,
            "GET",
            "/2/users/show.json",
            platform=PLATFORM,
            classify=self._classifier(creates=False),
            headers={"Authorization": f"OAuth2 {answer.access_token}"},
            params={"uid": uid},
        )
        user = json_body(response)
        name = user.get("screen_name") if isinstance(user, dict) else None
        credentials = first_credentials(
            answer,
            client_id=app.client_id or "",
            client_secret=app.client_secret,
            now=now,
            user_id=uid or None,
            extra={"redirect_uri": redirect_uri},
        )
        return Authorized(credentials=credentials, handle=str(name or uid))

    def refresh_credentials(self) -> Credentials:
        """Only tokens issued with a refresh token (Weibo's mobile SDK) can be refreshed."""
        old, now = self.credentials, self.clock.now()
        require_refresh(
            old,
            platform=PLATFORM,
            now=now,
            needs_secret=True,
            missing="Weibo gives web apps no refresh token",
        )
        form = {
            "client_id": old.client_id or "",
            "client_secret": old.client_secret or "",
            "grant_type": "refresh_token",
            "refresh_token": old.refresh_token or "",
        }
        if old.extra.get("redirect_uri"):
            form["redirect_uri"] = old.extra["redirect_uri"]
        answer = refresh_grant(
            self.http,
            "/oauth2/access_token",
            platform=PLATFORM,
            classify=self._classifier(creates=False),
            form=form,
        )
        uid = answer.body.get("uid")
        return renewed(old, answer, now=now, user_id=str(uid) if uid else None)

    # -- transport and errors ------------------------------------------------------------
    def _send(
        self, method: str, path: str, *, creates: bool = False, **kwargs: Any
    ) -> httpx.Response:
        # The header (as Weibo's SDKs send it) keeps the token out of logged URLs; share.json
        # also gets the documented ``access_token`` form field.
        kwargs["headers"] = {"Authorization": f"OAuth2 {self.credentials.access_token}"}
        return send(
            self.http,
            method,
            path,
            platform=PLATFORM,
            classify=self._classifier(creates=creates),
            creates=creates,
            **kwargs,
        )

    def _classifier(self, *, creates: bool) -> Classifier:
        def classify(response: httpx.Response) -> ConnectorError | None:
            body = json_body(response)
            if not isinstance(body, dict) or "error_code" not in body:
                return None
            try:
                code = int(body["error_code"])  # sometimes sent as a string
            except (TypeError, ValueError):
                code = 0
            reason = str(body.get("error_description") or body.get("error") or "unknown error")
            return self._error(code, reason, response, creates=creates)

        return classify

    def _error(
        self,
        code: int,
        reason: str,
        response: httpx.Response,
        *,
        creates: bool,
    ) -> ConnectorError:
        message = f"{reason} ({code})"
        kind: Callable[..., ConnectorError]
        if code == _STORED_WITHOUT_BODY:
            return (OutcomeUnknown if creates else TransientError)(
                f"{message}: stored but not returned yet; look for it in the timeline",
                platform=PLATFORM,
                code=str(code),
            )
        if code in _RATE_LIMITED:
            return RateLimited(
                message, platform=PLATFORM, code=str(code), retry_at=self._next_window()
            )
        if code in _TOKEN or code in _OAUTH_GRANT:
            if self.credentials.refresh_token and code in _TOKEN:
                kind = AuthExpired
            else:
                kind = ReauthorizationRequired
                message += "; authorise the Weibo account again"
            return kind(message, platform=PLATFORM, code=str(code))
        if code in _NEEDS_A_PERSON:
            kind = ReauthorizationRequired
        elif code in _TRANSIENT:
            ambiguous = creates and code in _AMBIGUOUS_WHEN_CREATING
            kind = OutcomeUnknown if ambiguous else TransientError
        elif code in _DUPLICATE:
            kind = DuplicateContent
        elif code in _NOT_FOUND:
            kind = RemoteNotFound
        elif response.status_code >= 500:
            kind = OutcomeUnknown if creates else TransientError
        else:
            kind = ContentRejected
        return kind(message, platform=PLATFORM, code=str(code))

    def _next_window(self) -> datetime:
        """Weibo counts per hour and sends no reset time: try again at the next full hour."""
        now = self.clock.now().astimezone(UTC)
        return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
