"""Bodies of ``/api/inbox``, ``/api/deliveries/{id}/…`` and ``/api/series``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from campaigns.delivery_actions import URL_LIMIT
from campaigns.queries import InboxItem
from campaigns.reasons import PLAIN
from campaigns.schemas import PostInput, VariantInput
from campaigns.series import RULE_LIMIT, SeriesView
from publicist.web.schemas import MediaList, Request, Short, Text, VariantIn


class InboxItemOut(BaseModel):
    kind: Literal["delivery", "post"]
    post_id: int
    delivery_id: int | None
    campaign: str
    timezone: str
    account: str | None
    platform: str | None
    state: str
    reason: str
    """The kind of problem (campaigns.reasons.ErrorKind)."""
    reason_text: str
    """It in plain English words; ``detail`` keeps the platform's own message."""
    detail: str | None
    code: str | None
    due_at: datetime
    attempts: int
    text: str
    actions: list[str]

    @classmethod
    def of(cls, item: InboxItem) -> InboxItemOut:
        return cls(
            kind=item.kind,
            post_id=item.post_id,
            delivery_id=item.delivery_id,
            campaign=item.campaign,
            timezone=item.timezone,
            account=item.account,
            platform=item.platform,
            state=item.state,
            reason=item.reason.value,
            reason_text=PLAIN[item.reason],
            detail=item.detail,
            code=item.code,
            due_at=item.due_at,
            attempts=item.attempts,
            text=item.text,
            actions=list(item.actions),
        )


class ConfirmIn(Request):
    url: Annotated[
        str,
        Field(
            min_length=1,
            max_length=URL_LIMIT,
            description="Where the post is live (http or https), as checked on the platform.",
            examples=["https://x.com/ipoffice/status/1800000000000000000"],
        ),
    ]


class DeliveryActionOut(BaseModel):
    id: int
    post_id: int
    state: str
    due_at: datetime
    next_attempt_at: datetime
    url: str | None


class SeriesCreate(Request):
    """A post to repeat (as ``POST /api/posts`` without ``at``) and when to repeat it."""

    campaign: Annotated[str, Field(min_length=1, max_length=200)]
    text: Text
    accounts: Annotated[list[Annotated[str, Field(max_length=140)]], Field(max_length=50)]
    title: Short | None = None
    media: MediaList = Field(default_factory=list)
    variants: Annotated[
        dict[Annotated[str, Field(max_length=32)], VariantIn], Field(max_length=20)
    ] = Field(default_factory=dict)
    rule: Annotated[
        str,
        Field(
            min_length=1,
            max_length=RULE_LIMIT,
            description="An RFC 5545 RRULE value (it may carry UNTIL or COUNT).",
            examples=["FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"],
        ),
    ]
    starts: Annotated[
        str,
        Field(
            min_length=1,
            max_length=32,
            description="The first occurrence's local wall time in the campaign's zone.",
            examples=["2026-04-20 09:30"],
        ),
    ]
    until: date | None = Field(default=None, description="The last local day, inclusive.")
    overlap: Literal["earlier", "later"] | None = Field(
        default=None,
        description="For an occurrence the clocks pass twice (fall back): which one.",
    )
    approve: bool = False

    def post_input(self) -> PostInput:
        return PostInput(
            campaign=self.campaign,
            text=self.text,
            accounts=list(self.accounts),
            title=self.title,
            media=[m.as_dict() for m in self.media],
            variants={
                platform: VariantInput(
                    text=v.text,
                    title=v.title,
                    digest=v.digest,
                    media=[m.as_dict() for m in v.media] if v.media is not None else None,
                )
                for platform, v in self.variants.items()
            },
        )


class OccurrenceOut(BaseModel):
    post_id: int
    publish_at: datetime | None
    state: str


class SeriesOut(BaseModel):
    id: int
    campaign: str
    timezone: str
    rule: str
    starts: str
    until: date | None
    overlap: str | None
    created_at: datetime
    cancelled_at: datetime | None
    occurrences: list[OccurrenceOut]

    @classmethod
    def of(cls, view: SeriesView) -> SeriesOut:
        return cls(
            id=view.id,
            campaign=view.campaign,
            timezone=view.timezone,
            rule=view.rule,
            starts=view.starts,
            until=view.until,
            overlap=view.overlap,
            created_at=view.created_at,
            cancelled_at=view.cancelled_at,
            occurrences=[
                OccurrenceOut(post_id=o.post_id, publish_at=o.publish_at, state=o.state)
                for o in view.occurrences
            ],
        )


class SeriesCancelOut(BaseModel):
    series: SeriesOut
    cancelled: list[int]
    """Ids of the future posts cancelled."""
