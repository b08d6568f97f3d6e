"""Request and response bodies of the HTTP API (pydantic); sizes mirror the table columns.

Requests are strict about shape (unknown fields are refused) and bounded in size, so a
client cannot reach the database with a value it would refuse. The rules about content
(time zones, publish times, platform text limits) stay in the campaign services, so the
API, the CLI and the CSV import apply one set of rules.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from publicist.core.errors import InvalidInput
from publicist.core.ids import MAX_ID, parse_id
from publicist.web.tokens import Role

__all__ = ["MAX_ID"]


def _id_text(value: Any) -> Any:
    """Path and query ids arrive as text: read them with the one id parser (ASCII digits in
    range), since pydantic's lax ``int`` also takes "+5", " 5 " and "1_0"."""
    if not isinstance(value, str):
        return value
    try:
        return parse_id(value, field="id")
    except InvalidInput as exc:
        raise PydanticCustomError("id", exc.rule) from None


IdText = BeforeValidator(_id_text)
"""Put it after the ``Path``/``Query`` in ``Annotated`` (before it, FastAPI leaves the
range out of the OpenAPI schema)."""

Short = Annotated[str, Field(max_length=200)]
Text = Annotated[str, Field(max_length=100_000)]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_text(value: Any, path: str) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{path or 'value'} must not contain the NUL character")
        if _SURROGATE.search(value):
            # JSON may escape half of a UTF-16 pair ("\\ud800"); it is no character at all.
            raise ValueError(f"{path or 'value'} must not contain a lone UTF-16 surrogate")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, path)
            _check_text(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{path}[{index}]")


class Request(BaseModel):
    """A request body: unknown fields refused, and no NUL characters (PostgreSQL refuses
    them in text, so every engine refuses them here, before anything is written) nor lone
    surrogates (no engine can store them as text; secrets would keep them otherwise)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_bad_characters(cls, data: Any) -> Any:
        _check_text(data, "")
        return data


class AccountCreate(Request):
    platform: Annotated[str, Field(min_length=1, max_length=32, examples=["twitter"])]
    handle: Annotated[str, Field(min_length=1, max_length=100, examples=["@IPRinCN"])]
    access_token: Annotated[
        SecretStr,
        Field(
            max_length=4000,
            description="Must not be empty, unless client_id and client_secret are given for "
            "the platform to issue tokens (WeChat).",
        ),
    ]
    refresh_token: Annotated[SecretStr | None, Field(max_length=4000)] = None
    client_id: Short | None = None
    client_secret: Annotated[SecretStr | None, Field(max_length=4000)] = None
    user_id: Short | None = None
    api_base_url: Annotated[
        str | None,
        Field(max_length=500, description="An http(s) URL to send requests to (a simulator)."),
    ] = None
    extra: Annotated[
        dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=4000)]],
        Field(max_length=50, description="Connector-specific settings; treated as secret."),
    ] = {}
    rate_limit_requests: Annotated[int | None, Field(ge=1, le=1_000_000)] = None
    rate_limit_per_seconds: Annotated[
        float | None, Field(gt=0, le=31_536_000, allow_inf_nan=False)
    ] = None


class AccountOut(BaseModel):
    """An account as the API shows it: never a token, secret or connector setting."""

    id: int
    platform: str
    handle: str
    label: str
    api_base_url: str | None
    token_expires_at: datetime | None
    rate_limit_requests: int | None
    rate_limit_per_seconds: float | None
    created_at: datetime


class CampaignCreate(Request):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    timezone: Annotated[str | None, Field(max_length=64, examples=["Asia/Shanghai"])] = None
    theme: Annotated[str | None, Field(max_length=10_000)] = None
    description: Annotated[str | None, Field(max_length=10_000)] = None
    starts_on: date | None = None
    ends_on: date | None = None
    hashtags: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=30)] = []
    owner: Annotated[str | None, Field(max_length=100)] = None
    late_policy: Annotated[str, Field(max_length=16, examples=["publish", "miss"])] = "publish"
    self_approval: bool = Field(
        default=False,
        description="Whether a person may approve posts they wrote (admin only to switch on).",
    )


class CampaignOut(BaseModel):
    id: int
    name: str
    theme: str | None
    description: str | None
    timezone: str
    starts_on: date | None
    ends_on: date | None
    hashtags: list[str]
    owner: str | None
    late_policy: str
    self_approval: bool
    created_at: datetime
    posts: int


class MediaRef(Request):
    """A media library item (``media_id``, see ``POST /api/media``) or an http(s) ``url``;
    the campaign services check that exactly one is given."""

    kind: Annotated[str, Field(max_length=16, examples=["image"])]
    media_id: Annotated[int | None, Field(ge=1, le=MAX_ID, examples=[12])] = None
    url: Annotated[str | None, Field(min_length=1, max_length=2000)] = None
    alt_text: Annotated[str | None, Field(max_length=1000)] = None
    source: Annotated[
        str | None,
        Field(
            max_length=1000,
            deprecated=True,
            description="Always refused (a local file path): upload the file and give its "
            "media_id, or give a url. Accepted here only so the refusal can say so.",
        ),
    ] = None

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


MediaList = Annotated[list[MediaRef], Field(max_length=20)]


class VariantIn(Request):
    """What differs on one platform; fields left out fall back to the post's base values."""

    text: Text | None = None
    title: Short | None = None
    digest: Annotated[str | None, Field(max_length=500)] = None
    media: MediaList | None = None


class PostCreate(Request):
    campaign: Annotated[
        str,
        Field(
            min_length=1,
            max_length=200,
            description="Campaign name or id.",
            examples=["IP Creates a Better Life"],
        ),
    ]
    text: Text
    accounts: Annotated[
        list[Annotated[str, Field(max_length=140)]],
        Field(max_length=50, description="platform:handle, a unique handle, or an account id."),
    ]
    at: Annotated[
        str | None,
        Field(
            max_length=64,
            description="Publish time: ISO 8601 with an offset, or without one to mean the "
            "campaign's time zone.",
            examples=["2026-12-01 09:30", "2026-12-01T09:30:00+08:00"],
        ),
    ] = None
    title: Short | None = None
    media: MediaList = []
    variants: Annotated[
        dict[Annotated[str, Field(max_length=32)], VariantIn], Field(max_length=20)
    ] = {}
    approve: bool = Field(
        default=False, description="Approve at once (and so schedule it when it has a time)."
    )


class PostEdit(Request):
    """An edit: fields left out keep their values (the time is moved by ``reschedule``)."""

    text: Text | None = None
    title: Annotated[str | None, Field(max_length=200, description="An empty title clears it.")] = (
        None
    )
    accounts: Annotated[
        list[Annotated[str, Field(max_length=140)]] | None,
        Field(max_length=50, description="Replaces the accounts: platform:handle, handle or id."),
    ] = None
    media: Annotated[MediaList | None, Field(description="Replaces the media list.")] = None
    variants: Annotated[
        dict[Annotated[str, Field(max_length=32)], VariantIn | None] | None,
        Field(
            max_length=20,
            description="Only the platforms named change: their given fields replace the stored "
            "ones (an empty string clears one); null removes the platform's variant.",
        ),
    ] = None


class AtIn(Request):
    at: Annotated[
        str,
        Field(min_length=1, max_length=64, examples=["2026-12-02 10:00", "2026-12-02T02:00Z"]),
    ]


class ScheduleIn(Request):
    at: Annotated[
        str | None,
        Field(max_length=64, description="Set or change the publish time first (optional)."),
    ] = None


class DeliveryOut(BaseModel):
    id: int
    account: str
    platform: str
    state: str
    due_at: datetime
    published_at: datetime | None
    attempts: int
    url: str | None
    remote_id: str | None
    last_error: str | None
    last_error_code: str | None


class MediaOut(BaseModel):
    """An item of the media library; its file is at ``/api/media/{id}/content``."""

    id: int
    kind: str
    content_type: str
    size_bytes: int
    sha256: str
    name: str
    created_at: datetime


class VariantOut(BaseModel):
    text: str | None
    title: str | None
    digest: str | None
    media: list[dict[str, Any]] | None


class PostOut(BaseModel):
    id: int
    campaign_id: int
    campaign: str
    state: str
    text: str
    title: str | None
    media: list[dict[str, Any]]
    publish_at: datetime | None
    """In UTC."""
    publish_at_local: datetime | None
    """The same moment in the campaign's time zone."""
    accounts: list[str]
    variants: dict[str, VariantOut]
    deliveries: list[DeliveryOut]
    created_at: datetime
    approved_at: datetime | None
    created_by: int | None
    """The id of the person who wrote it; null for the CLI or a token without an owner."""
    review_comment: str | None
    """The approver's reason for the last rejection."""


class RejectIn(Request):
    comment: Annotated[
        str,
        Field(max_length=2000, description="Why, for the editor: required, not blank."),
    ]


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    """``person``, ``token`` or ``cli``."""
    person_id: int | None
    token_id: int | None
    action: str
    object_kind: str
    object_id: int
    post_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class RetryOut(BaseModel):
    post: PostOut
    retried: list[int]
    """Ids of the deliveries scheduled again."""


class ImportOut(BaseModel):
    imported: int
    deliveries: int
    drafts: bool
    post_ids: list[int]


class TokenCreate(Request):
    name: Annotated[str, Field(min_length=1, max_length=100, examples=["wall display"])]
    role: Role


class TokenOut(BaseModel):
    id: int
    name: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself; shown this once and never again.")


class FailureOut(BaseModel):
    """A delivery that needs attention: it ended failed, missed or unknown, or is ``stuck``
    in a waiting state for longer than its platform normally needs (``error`` says why)."""

    delivery_id: int
    post_id: int
    campaign_id: int
    account: str
    platform: str
    state: str
    stuck: bool
    due_at: datetime
    attempts: int
    error: str | None
    error_code: str | None
    text: str


class FieldError(BaseModel):
    field: str
    rule: str
    value: str | None = None


class ErrorDetail(BaseModel):
    type: str
    message: str
    field: str | None = None
    value: str | None = None
    rule: str | None = None
    errors: list[FieldError] | None = None
    """Every problem found, when there are several (validation, CSV rows)."""


class ErrorOut(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: str
    database: str
