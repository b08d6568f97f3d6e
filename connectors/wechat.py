"""WeChat Official Account (公众号): cover upload → draft → free publish → poll; T+1 metrics.

Every WeChat answer is HTTP 200; failures carry ``{"errcode": N, "errmsg": "..."}`` and are
mapped here to the typed connector errors. The access token is app-level (appid + secret,
``/cgi-bin/stable_token``) and travels as the ``access_token`` query parameter.

Identifiers Publicist keeps for an article:

* ``submission_id`` = ``"<publish_id>:<msg_data_id>:<unix seconds of the submit>"``, because
  ``freepublish/get`` does not repeat ``msg_data_id`` and the metrics need it;
* ``remote_id`` = ``"<article_id>:<msgid>:<YYYYMMDD>"``: ``msgid`` (``<msg_data_id>_<idx>``)
  keys the datacube rows and the date (Beijing time) is the day the article was published,
  the only day ``datacube/getarticletotaldetail`` lists it. When an article is found again
  through ``freepublish/batchget`` and its URL does not carry ``mid``/``idx``, the middle part
  is ``t-<title fingerprint>`` and its datacube row is matched by title.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from html import escape
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

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
from connectors.fingerprint import content_fingerprint
from connectors.http import Classifier, json_body, send
from connectors.numbers import parse_count

PLATFORM = "wechat"
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
"""WeChat's days (datacube dates, daily quotas) are Beijing days."""

MAX_BODY_CHARS = 20_000
"""The article HTML must stay under this many characters, tags and attributes included."""
IMAGE_TAG_ALLOWANCE = 200
"""Characters reserved per inline image when validating, before its URL is known."""
MAX_DIGEST = 128
MAX_AUTHOR = 16
MAX_COVER_BYTES = 10 * 1024 * 1024
MAX_INLINE_BYTES = 1024 * 1024
"""Inline images (``media/uploadimg``) must be smaller than 1 MB."""
COVER_FORMATS = frozenset({"bmp", "png", "jpeg", "gif"})
INLINE_FORMATS = frozenset({"png", "jpeg"})
FIND_PAGE = 20
FIND_PAGES = 5
"""``find_post`` reads at most this many pages of 20 published articles (newest first)."""

AUTH_CODES = frozenset({40001, 40014, 41001, 42001})
"""Invalid, unknown, missing or expired access token: fetch a new one and try again."""
ACCOUNT_CODES = frozenset({40013, 40125, 40164, 40243, 41002, 41004, 48001, 50001, 50002})
"""Wrong appid/secret, IP not whitelisted, frozen secret, or API not permitted: a person acts."""
LOOKUP_MISSING = frozenset({40007, 53600})
"""Unknown media/publish/article id when asking about an existing object."""
DATE_RANGE_ERROR = 61501
REASONS: Mapping[int, str] = {
    40004: "invalid media type",
    40005: "invalid file type",
    40006: "invalid media size",
    40007: "invalid media_id (the cover must be a permanent image)",
    40009: "invalid image size",
    44003: "empty article",
    44004: "empty content",
    45002: "content too long",
    45003: "title too long",
    45004: "digest too long",
    45110: "author too long",
    45166: "invalid content",
    47001: "data format error",
    53503: "the draft failed the publish check",
    53504: "the draft must be published on the mp.weixin.qq.com website",
    53505: "the draft must first be saved manually on the website",
}
PUBLISH_FAILURES: Mapping[int, str] = {
    2: "original-content declaration failed",
    3: "publishing failed (general failure)",
    4: "rejected by the platform's review",
    6: "published, then blocked by the platform",
}

_TOKEN_QUERY = re.compile(r"(access_token=)[^&\s\"']+")
_MID = re.compile(r"^\d+_\d+$")
_LOOKS_LIKE_HTML = re.compile(
    r"<(p|div|section|br|h[1-6]|ul|ol|li|blockquote|strong|em|b|i|span|img|a|table)\b[^>]*>",
    re.IGNORECASE,
)
_EXTENSION_FORMATS = {
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".png": "png",
    ".gif": "gif",
    ".bmp": "bmp",
}
_MIME_FORMATS = {
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/png": "png",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/webp": "webp",
}


class _RedactTokens(logging.Filter):
    """WeChat puts the token in the query string; keep it out of httpx's request log."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token=" in message:
            record.msg = _TOKEN_QUERY.sub(r"\1[redacted]", message)
            record.args = ()
        return True


logging.getLogger("httpx").addFilter(_RedactTokens())


# -- article text ---------------------------------------------------------------------------
def article_html(text: str) -> str:
    """The article body as WeChat stores it: HTML as given, plain text as paragraphs."""
    text = text.strip()
    if _LOOKS_LIKE_HTML.search(text):
        return text
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(
        "<p>" + "<br/>".join(escape(line.strip()) for line in p.splitlines()) + "</p>"
        for p in paragraphs
    )


class _TextOf(HTMLParser):
    _BLOCKS = frozenset(
        {"p", "div", "section", "br", "li", "tr", "blockquote", "h1", "h2", "h3", "h4", "h5"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """Readable text of an article body, for matching what the platform kept to what we sent."""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()


def body_fingerprint(html: str) -> str:
    return content_fingerprint(plain_text(html))


def _title_key(title: str) -> str:
    return content_fingerprint(unicodedata.normalize("NFC", title).strip())[:12]


# -- identifiers ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ArticleRef:
    """What ``remote_id`` carries: the article, its datacube key and its publication day."""

    article_id: str
    day: date
    msgid: str | None = None
    title_key: str | None = None

    def encode(self) -> str:
        key = self.msgid if self.msgid else f"t-{self.title_key or ''}"
        return f"{self.article_id}:{key}:{self.day:%Y%m%d}"

    @classmethod
    def parse(cls, remote_id: str) -> ArticleRef | None:
        parts = remote_id.rsplit(":", 2)
        if len(parts) != 3 or not parts[0]:
            return None
        article_id, key, day_text = parts
        try:
            day = datetime.strptime(day_text, "%Y%m%d").replace(tzinfo=BEIJING).date()
        except ValueError:
            return None
        if _MID.match(key):
            return cls(article_id, day, msgid=key)
        if key.startswith("t-") and len(key) > 2:
            return cls(article_id, day, title_key=key[2:])
        return None


@dataclass(frozen=True)
class Submission:
    publish_id: str
    msg_data_id: str
    submitted_at: datetime

    def encode(self) -> str:
        return f"{self.publish_id}:{self.msg_data_id}:{int(self.submitted_at.timestamp())}"

    @classmethod
    def parse(cls, submission_id: str) -> Submission | None:
        parts = submission_id.split(":")
        if len(parts) != 3 or not all(parts) or not parts[2].isdigit():
            return None
        return cls(parts[0], parts[1], datetime.fromtimestamp(int(parts[2]), UTC))


def _msgid_from_url(url: str) -> str | None:
    """``mid``/``idx`` of a long-form article URL, the datacube's ``msgid``; short URLs lack it."""
    query = parse_qs(urlsplit(url).query)
    mid, idx = query.get("mid", [""])[0], query.get("idx", [""])[0]
    return f"{mid}_{idx}" if mid.isdigit() and idx.isdigit() else None


def beijing_day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def next_beijing_midnight(now: datetime) -> datetime:
    tomorrow = beijing_day(now) + timedelta(days=1)
    return datetime.combine(tomorrow, time(0, 0), tzinfo=BEIJING).astimezone(UTC)


def next_minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


# -- errors -----------------------------------------------------------------------------------
def error_for(code: int, message: str, *, now: datetime, context: str = "api") -> ConnectorError:
    """The typed error for a WeChat ``errcode`` (``context``: ``api``, ``token``, ``lookup``)."""
    detail = f"errcode {code}: {message}".strip()
    where = {"platform": PLATFORM, "code": str(code)}
    if code == -1:
        return TransientError(f"system busy ({detail})", **where)
    if code == 45009:
        return RateLimited(
            f"daily API quota reached ({detail})", retry_at=next_beijing_midnight(now), **where
        )
    if code == 45011:
        return RateLimited(
            f"per-minute API quota reached ({detail})", retry_at=next_minute(now), **where
        )
    if context == "token" and code in AUTH_CODES | ACCOUNT_CODES:
        return ReauthorizationRequired(
            f"the appid/secret were refused ({detail}); check them and the IP whitelist",
            **where,
        )
    if code in AUTH_CODES:
        return AuthExpired(f"access token refused ({detail})", **where)
    if code in ACCOUNT_CODES:
        return ReauthorizationRequired(
            f"the account may not use this API ({detail}); publishing through the API needs "
            "a verified account with the publish permission",
            **where,
        )
    if context == "lookup" and code in LOOKUP_MISSING:
        return RemoteNotFound(f"no such object ({detail})", **where)
    reason = REASONS.get(code, "refused")
    return ContentRejected(f"{reason} ({detail})", **where)


@dataclass(frozen=True)
class _Image:
    index: int
    name: str
    data: bytes
    format: str

    @property
    def mime_type(self) -> str:
        return f"image/{self.format}"


def _declared_format(item: Media) -> str | None:
    if item.mime_type:
        return _MIME_FORMATS.get(item.mime_type.lower(), "other")
    suffix = PurePosixPath(urlsplit(item.url).path).suffix if item.url else ""
    return _EXTENSION_FORMATS.get(suffix.lower()) if suffix else None


def _image_rules(index: int, fmt: str | None, size: int | None) -> list[Violation]:
    """The cover (first image) is a permanent image; later ones are inline body images."""
    field = f"media[{index}]"
    allowed, limit, role = (
        (COVER_FORMATS, MAX_COVER_BYTES, "the cover")
        if index == 0
        else (INLINE_FORMATS, MAX_INLINE_BYTES - 1, "an inline image")
    )
    problems = []
    if fmt is not None and fmt not in allowed:
        names = "/".join(sorted(allowed))
        problems.append(Violation(field, fmt, f"is not accepted as {role} (accepted: {names})"))
    if size is not None and size > limit:
        problems.append(
            Violation(field, f"{size} bytes", f"exceeds the {limit:,}-byte limit for {role}")
        )
    return problems


# -- the connector ------------------------------------------------------------------------------
class WechatConnector(BaseConnector):
    """Publishes articles to a WeChat Official Account with its app's appid and secret.

    ``credentials``: ``client_id`` = appid, ``client_secret`` = AppSecret, ``access_token`` and
    ``expires_at`` from the last token fetch; ``extra["author"]`` (≤ 16 characters) and
    ``extra["open_comments"] = "1"`` are optional.
    """

    capabilities: ClassVar[Capabilities] = Capabilities(
        platform=PLATFORM,
        display_name="WeChat Official Account",
        max_text_length=MAX_BODY_CHARS - 1,
        text_length_rule=(
            "characters of the article HTML, tags and attributes included (plain text is sent "
            f"as <p> paragraphs; each inline image counts {IMAGE_TAG_ALLOWANCE})"
        ),
        media_kinds=frozenset({MediaKind.IMAGE}),
        max_media=10,
        metrics_batch_size=100,
        publishes_async=True,
        usual_processing_seconds=600.0,  # a free-publish job normally ends within minutes
        interaction_counters=("likes", "comments", "shares", "zaikan", "favourites"),
        requires_media=True,
        requires_title=True,
        max_title_length=32,
        views_available=True,
        supports_refresh=True,
        publish_rate_limit=RateLimitPolicy(requests=20, per_seconds=60),
        # The datacube has a daily quota per app; one request covers a publication day.
        metrics_rate_limit=RateLimitPolicy(requests=5_000, per_seconds=86_400),
    )
    default_base_url: ClassVar[str] = "https://api.weixin.qq.com"

    # -- validation -----------------------------------------------------------------------------
    @classmethod
    def validate(cls, content: Content) -> list[Violation]:
        caps = cls.capabilities
        problems = check_common_rules(replace(caps, requires_media=False), content)
        if not content.media:
            problems.append(
                Violation(
                    "media",
                    "no image",
                    "a WeChat article needs a cover: attach at least one image "
                    "(the first becomes the cover, the others follow the text)",
                )
            )
        elif not content.text.strip():
            problems.append(Violation("text", "''", "must not be empty: the article needs a body"))
        body = article_html(content.text)
        length = len(body) + IMAGE_TAG_ALLOWANCE * max(0, len(content.media) - 1)
        if length >= MAX_BODY_CHARS:
            problems.append(
                Violation(
                    "text",
                    f"{length} characters of HTML",
                    f"must stay under {MAX_BODY_CHARS:,} (tags, attributes and inline images "
                    "count)",
                )
            )
        if content.digest is not None and len(content.digest) > MAX_DIGEST:
            problems.append(
                Violation(
                    "digest",
                    f"{len(content.digest)} characters",
                    f"exceeds WeChat's limit of {MAX_DIGEST}",
                )
            )
        for index, item in enumerate(content.media):
            if item.kind is not MediaKind.IMAGE:
                continue  # the common rules already reported it
            problems.extend(_image_rules(index, _declared_format(item), item.size_bytes))
        return problems

    # -- publishing ------------------------------------------------------------------------------
    def publish(self, content: Content) -> PublishResult:
        problems = self.validate(content)
        if problems:
            raise ValidationFailed(problems, platform=PLATFORM)
        author = self.credentials.extra.get("author")
        if author and len(author) > MAX_AUTHOR:
            raise ValidationFailed(
                [Violation("author", author, f"exceeds WeChat's limit of {MAX_AUTHOR}")],
                platform=PLATFORM,
            )
        images = self._load_images(content.media)
        cover = self._call(
            "POST",
            "/cgi-bin/material/add_material",
            params={"type": "image"},
            files=self._file(images[0]),
        )
        body = article_html(content.text)
        for image in images[1:]:
            uploaded = self._call("POST", "/cgi-bin/media/uploadimg", files=self._file(image))
            body += f'<p><img src="{escape(str(uploaded.get("url", "")))}"/></p>'
        if len(body) >= MAX_BODY_CHARS:
            raise ValidationFailed(
                [Violation("text", f"{len(body)} characters of HTML", "must stay under 20,000")],
                platform=PLATFORM,
            )
        article: dict[str, Any] = {
            "article_type": "news",
            "title": (content.title or "").strip(),
            "content": body,
            "thumb_media_id": str(cover.get("media_id", "")),
            "need_open_comment": 1 if self.credentials.extra.get("open_comments") == "1" else 0,
            "only_fans_can_comment": 0,
        }
        if content.digest:
            article["digest"] = content.digest
        if author:
            article["author"] = author
        # A lost draft response leaves at most an unused draft: retrying is harmless.
        draft = self._call("POST", "/cgi-bin/draft/add", payload={"articles": [article]})
        draft_id = str(draft.get("media_id", ""))
        submitted_at = self.clock.now()
        try:
            job = self._call(
                "POST", "/cgi-bin/freepublish/submit", payload={"media_id": draft_id}, creates=True
            )
        except OutcomeUnknown:
            raise
        except ConnectorError:
            self._discard_draft(draft_id)
            raise
        submission = Submission(
            publish_id=str(job.get("publish_id", "")),
            msg_data_id=str(job.get("msg_data_id", "")),
            submitted_at=submitted_at,
        )
        if not submission.publish_id or not submission.msg_data_id:
            raise OutcomeUnknown("the publish job was accepted without its ids", platform=PLATFORM)
        return PublishResult(
            state=PublishState.SUBMITTED,
            submission_id=submission.encode(),
            raw={
                "publish_id": submission.publish_id,
                "msg_data_id": submission.msg_data_id,
                "draft_media_id": draft_id,
                "thumb_media_id": article["thumb_media_id"],
            },
        )

    def check_publish(self, submission_id: str) -> PublishResult:
        submission = Submission.parse(submission_id)
        if submission is None:
            raise RemoteNotFound(
                f"not a WeChat submission id: {submission_id!r}", platform=PLATFORM
            )
        job = self._call(
            "POST",
            "/cgi-bin/freepublish/get",
            payload={"publish_id": submission.publish_id},
            context="lookup",
        )
        status = int(job.get("publish_status", -1))
        if status == 1:
            return PublishResult(state=PublishState.SUBMITTED, submission_id=submission_id, raw=job)
        if status == 0:
            return self._published(submission, job)
        fail_idx = job.get("fail_idx") or []
        where = f" (article {', '.join(str(i) for i in fail_idx)})" if fail_idx else ""
        if status == 5:
            raise RemoteNotFound(
                "published, then deleted by the account", platform=PLATFORM, code="publish_status 5"
            )
        reason = PUBLISH_FAILURES.get(status, f"unexpected publish_status {status}")
        raise ContentRejected(
            f"{reason}{where}", platform=PLATFORM, code=f"publish_status {status}"
        )

    def _published(self, submission: Submission, job: Mapping[str, Any]) -> PublishResult:
        article_id = str(job.get("article_id", ""))
        items = (job.get("article_detail") or {}).get("item") or []
        first: Mapping[str, Any] = min(items, key=lambda item: int(item.get("idx", 1)), default={})
        idx = int(first.get("idx", 1))
        now = self.clock.now()
        published_at: datetime | None = now
        day = beijing_day(now)
        if beijing_day(submission.submitted_at) != day:
            # The job may have finished on an earlier (Beijing) day than we noticed; the
            # datacube lists an article under its publication day only, so ask the platform.
            published_at = self._finished_at(article_id, submission.submitted_at)
            day = beijing_day(published_at or submission.submitted_at)
        ref = ArticleRef(article_id, day, msgid=f"{submission.msg_data_id}_{idx}")
        return PublishResult(
            state=PublishState.PUBLISHED,
            remote_id=ref.encode(),
            url=str(first.get("article_url", "")) or None,
            submission_id=submission.encode(),
            published_at=published_at,
            raw=dict(job),
        )

    def _finished_at(self, article_id: str, submitted_at: datetime) -> datetime | None:
        """When the article went out, from the published list (newest first, bounded)."""
        oldest = submitted_at - timedelta(minutes=1)
        for page in range(FIND_PAGES):
            listing = self._call(
                "POST",
                "/cgi-bin/freepublish/batchget",
                payload={"offset": page * FIND_PAGE, "count": FIND_PAGE, "no_content": 1},
            )
            items = listing.get("item") or []
            for item in items:
                updated = datetime.fromtimestamp(int(item.get("update_time") or 0), UTC)
                if str(item.get("article_id")) == article_id:
                    return updated
                if updated < oldest:
                    return None
            if len(items) < FIND_PAGE:
                return None
        return None

    def _discard_draft(self, draft_id: str) -> None:
        """Best effort: a draft whose submit was refused would only clutter the draft box."""
        try:
            self._call("POST", "/cgi-bin/draft/delete", payload={"media_id": draft_id})
        except ConnectorError:
            logging.getLogger("publicist.connectors").info("wechat: an unused draft was kept")

    # -- reconciliation --------------------------------------------------------------------------
    def find_post(self, content: Content, *, since: datetime) -> RemotePost | None:
        """The published article with this title and body, newest first.

        WeChat never says that a publish did *not* happen: a job whose response was lost may
        still be running (or fail later), and only finished articles are listed. So when no
        article matches, this raises ``OutcomeUnknown`` rather than answering "not found",
        which would let the post go out twice.
        """
        wanted_body = body_fingerprint(article_html(content.text))
        wanted_title = unicodedata.normalize("NFC", (content.title or "").strip())
        for page in range(FIND_PAGES):
            listing = self._call(
                "POST",
                "/cgi-bin/freepublish/batchget",
                payload={"offset": page * FIND_PAGE, "count": FIND_PAGE, "no_content": 0},
            )
            items = listing.get("item") or []
            older = False
            for item in items:
                updated = datetime.fromtimestamp(int(item.get("update_time") or 0), UTC)
                if updated < since:
                    older = True
                    continue
                news = (item.get("content") or {}).get("news_item") or []
                for entry in news:
                    title = unicodedata.normalize("NFC", str(entry.get("title", "")).strip())
                    html = str(entry.get("content", ""))
                    if entry.get("is_deleted") or title != wanted_title:
                        continue
                    if body_fingerprint(html) != wanted_body:
                        continue
                    url = str(entry.get("url", ""))
                    msgid = _msgid_from_url(url)
                    ref = ArticleRef(
                        str(item.get("article_id", "")),
                        beijing_day(updated),
                        msgid=msgid,
                        title_key=None if msgid else _title_key(title),
                    )
                    return RemotePost(
                        remote_id=ref.encode(),
                        url=url or None,
                        published_at=updated,
                        text=plain_text(html),
                    )
            if older or len(items) < FIND_PAGE:
                break
        raise OutcomeUnknown(
            "no published article matches yet; WeChat cannot say whether a publish job is still "
            "running (its id was lost), so check the account's publish records before retrying",
            platform=PLATFORM,
        )

    # -- metrics ---------------------------------------------------------------------------------
    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[MetricCounts]:
        """One ``getarticletotaldetail`` request per publication day among ``remote_ids``.

        The datacube is T+1: an article published today has no figures before tomorrow
        (its counters come back as ``None``), and yesterday's are final after 08:00 Beijing.
        WeChat's calendar decides, not ours: a day it has not closed answers ``61501``, so
        a skewed local clock can neither hide figures nor ask for them too early.
        """
        by_day: dict[date, list[tuple[str, ArticleRef]]] = {}
        for remote_id in dict.fromkeys(remote_ids):
            ref = ArticleRef.parse(remote_id)
            if ref is not None:
                by_day.setdefault(ref.day, []).append((remote_id, ref))
        found: dict[str, MetricCounts] = {}
        for day, refs in sorted(by_day.items()):
            found.update(self._metrics_for_day(day, refs))
        return [found[r] for r in dict.fromkeys(remote_ids) if r in found]

    def _metrics_for_day(
        self, day: date, refs: list[tuple[str, ArticleRef]]
    ) -> dict[str, MetricCounts]:
        stamp = day.isoformat()
        answer = self._call(
            "POST",
            "/datacube/getarticletotaldetail",
            payload={"begin_date": stamp, "end_date": stamp},
            tolerate=frozenset({DATE_RANGE_ERROR}),
        )
        if int(answer.get("errcode") or 0) == DATE_RANGE_ERROR:
            # The platform's day has not closed yet (clocks disagree around midnight).
            return {r: _not_yet(r, dict(answer)) for r, _ in refs}
        rows = [row for row in answer.get("list") or [] if isinstance(row, Mapping)]
        by_msgid = {str(row.get("msgid")): row for row in rows}
        by_title = {_title_key(str(row.get("title", ""))): row for row in rows}
        delayed = bool(answer.get("is_delay"))
        results: dict[str, MetricCounts] = {}
        for remote_id, ref in refs:
            row = by_msgid.get(ref.msgid or "") if ref.msgid else by_title.get(ref.title_key or "")
            if row is None:
                if delayed:
                    results[remote_id] = _not_yet(remote_id, {"is_delay": True, "ref_date": stamp})
                continue  # deleted, or not an article of this account: omitted
            results[remote_id] = _counts(remote_id, row, delayed=delayed)
        return results

    # -- credentials -----------------------------------------------------------------------------
    def refresh_credentials(self) -> Credentials:
        """A token from ``/cgi-bin/stable_token`` (the same one every worker gets until it nears
        expiry); if the platform hands back the token it just refused, force a new one."""
        appid, secret = self.credentials.client_id, self.credentials.client_secret
        if not appid or not secret:
            raise ReauthorizationRequired(
                "WeChat needs the account's appid (client id) and AppSecret to fetch tokens",
                platform=PLATFORM,
            )
        answer = self._stable_token(appid, secret, force=False)
        if answer["access_token"] == self.credentials.access_token:
            answer = self._stable_token(appid, secret, force=True)
        return replace(
            self.credentials,
            access_token=answer["access_token"],
            refresh_token=None,
            expires_at=self.clock.now() + timedelta(seconds=int(answer["expires_in"])),
        )

    def _stable_token(self, appid: str, secret: str, *, force: bool) -> dict[str, Any]:
        payload = {
            "grant_type": "client_credential",
            "appid": appid,
            "secret": secret,
            "force_refresh": force,
        }
        response = send(
            self.http,
            "POST",
            "/cgi-bin/stable_token",
            platform=PLATFORM,
            classify=self._classifier("token"),
            content=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        body = json_body(response)
        if not isinstance(body, dict) or not body.get("access_token") or not body.get("expires_in"):
            raise TransientError("the token answer had no token", platform=PLATFORM)
        return body

    # -- transport -------------------------------------------------------------------------------
    def _classifier(self, context: str, tolerate: frozenset[int] = frozenset()) -> Classifier:
        def classify(response: httpx.Response) -> ConnectorError | None:
            if response.status_code != 200:
                return None
            body = json_body(response)
            if not isinstance(body, dict):
                return None
            code = int(body.get("errcode") or 0)
            if code == 0 or code in tolerate:
                return None
            return error_for(
                code, str(body.get("errmsg", "")), now=self.clock.now(), context=context
            )

        return classify

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        payload: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        creates: bool = False,
        context: str = "api",
        tolerate: frozenset[int] = frozenset(),
    ) -> dict[str, Any]:
        token = self.credentials.access_token
        expires = self.credentials.expires_at
        if not token or (expires is not None and expires <= self.clock.now()):
            raise AuthExpired("the access token has expired; fetch a new one", platform=PLATFORM)
        extra: dict[str, Any] = {}
        if payload is not None:
            # Real UTF-8, never \\u escapes: WeChat stores escaped titles literally.
            extra["content"] = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            extra["headers"] = {"Content-Type": "application/json; charset=utf-8"}
        if files is not None:
            extra["files"] = files
        response = send(
            self.http,
            method,
            path,
            platform=PLATFORM,
            classify=self._classifier(context, tolerate),
            creates=creates,
            params={"access_token": token, **(params or {})},
            **extra,
        )
        body = json_body(response)
        if not isinstance(body, dict):
            error = OutcomeUnknown if creates else TransientError
            raise error(f"{path} answered with something other than JSON", platform=PLATFORM)
        return body

    @staticmethod
    def _file(image: _Image) -> dict[str, tuple[str, bytes, str]]:
        return {"media": (image.name, image.data, image.mime_type)}

    def _load_images(self, media: Sequence[Media]) -> list[_Image]:
        """Every image's bytes, checked against WeChat's limits before anything is uploaded.

        WeChat does not fetch media from URLs, so the shared loader does and we upload bytes.
        """
        images: list[_Image] = []
        problems: list[Violation] = []
        for index, item in enumerate(media):
            try:
                loaded = self.media.load(index, item, platform=PLATFORM)
            except ValidationFailed as refused:
                problems.extend(refused.violations)
                continue
            fmt = _MIME_FORMATS.get(loaded.content_type, loaded.content_type)
            found = _image_rules(index, fmt, len(loaded.data))
            problems.extend(found)
            if not found:
                images.append(_Image(index, loaded.name, loaded.data, fmt))
        if problems:
            raise ValidationFailed(problems, platform=PLATFORM)
        return images


def _not_yet(remote_id: str, raw: Mapping[str, Any]) -> MetricCounts:
    """The platform has no figures for this article yet: every counter not available."""
    return MetricCounts(
        remote_id=remote_id,
        views=None,
        likes=None,
        comments=None,
        shares=None,
        extras={"zaikan": None, "favourites": None},
        raw=dict(raw),
    )


def _counts(remote_id: str, row: Mapping[str, Any], *, delayed: bool) -> MetricCounts:
    """The latest cumulative day of an article's ``detail_list``: readers are its views."""
    details = [d for d in row.get("detail_list") or [] if isinstance(d, Mapping)]
    raw = {"ref_date": row.get("ref_date"), "msgid": row.get("msgid"), "is_delay": delayed}
    if not details:
        return _not_yet(remote_id, raw)
    latest = max(details, key=lambda d: str(d.get("stat_date", "")))
    return MetricCounts(
        remote_id=remote_id,
        views=parse_count(latest.get("read_user")),
        likes=parse_count(latest.get("like_user")),
        comments=parse_count(latest.get("comment_count")),
        shares=parse_count(latest.get("share_user")),
        extras={
            "zaikan": parse_count(latest.get("zaikan_user")),
            "favourites": parse_count(latest.get("collection_user")),
        },
        raw={**raw, "detail": dict(latest)},
    )
