"""``/api/inbox``, ``/api/deliveries/{id}/…`` and ``/api/series``: what needs a person, the
actions on one delivery, and recurring series.

Each route calls the campaign service the CLI command and the workspace's inbox call.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from campaigns.delivery_actions import (
    cancel_delivery,
    confirm_delivery,
    republish_delivery,
    reschedule_delivery,
    retry_delivery,
)
from campaigns.models import Delivery
from campaigns.queries import inbox
from campaigns.series import (
    SeriesInput,
    cancel_series,
    create_series,
    get_series,
    list_series,
)
from publicist.core.errors import InvalidInput
from publicist.web.auth import Approver, Editor, Viewer
from publicist.web.deps import DbSession, Now, PathId, Waits
from publicist.web.inbox_schemas import (
    ConfirmIn,
    DeliveryActionOut,
    InboxItemOut,
    SeriesCancelOut,
    SeriesCreate,
    SeriesOut,
)
from publicist.web.schemas import AtIn
from publicist.web.tokens import token_actor

router = APIRouter(tags=["inbox"])


def _out(delivery: Delivery) -> DeliveryActionOut:
    return DeliveryActionOut(
        id=delivery.id,
        post_id=delivery.post_id,
        state=delivery.state.value,
        due_at=delivery.due_at,
        next_attempt_at=delivery.next_attempt_at,
        url=delivery.url,
    )


@router.get("/api/inbox")
def list_inbox(
    session: DbSession,
    now: Now,
    windows: Waits,
    _: Viewer,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[InboxItemOut]:
    """Failed, unknown, missed, stuck and rate-limited deliveries and expired posts, most
    recently due first, each with its reason in plain words and the actions it allows."""
    return [InboxItemOut.of(i) for i in inbox(session, now=now, windows=windows, limit=limit)]


@router.post("/api/deliveries/{delivery_id}/retry")
def retry(delivery_id: PathId, session: DbSession, now: Now, caller: Approver) -> DeliveryActionOut:
    """Try a failed, missed or waiting delivery again, now."""
    return _out(
        retry_delivery(session, delivery_id=delivery_id, now=now, actor=token_actor(caller))
    )


@router.post("/api/deliveries/{delivery_id}/reschedule")
def reschedule(
    delivery_id: PathId, body: AtIn, session: DbSession, now: Now, caller: Approver
) -> DeliveryActionOut:
    """Publish a failed, missed or waiting delivery at another time (the DST rule applies)."""
    try:
        delivery = reschedule_delivery(
            session, delivery_id=delivery_id, at=body.at, now=now, actor=token_actor(caller)
        )
    except OverflowError:
        raise InvalidInput("at", body.at, "is out of the supported range of dates") from None
    return _out(delivery)


@router.post("/api/deliveries/{delivery_id}/cancel")
def cancel(
    delivery_id: PathId, session: DbSession, now: Now, caller: Approver
) -> DeliveryActionOut:
    """Give up on one delivery (the post's others stay as they are)."""
    return _out(
        cancel_delivery(session, delivery_id=delivery_id, now=now, actor=token_actor(caller))
    )


@router.post("/api/deliveries/{delivery_id}/confirm")
def confirm(
    delivery_id: PathId, body: ConfirmIn, session: DbSession, now: Now, caller: Approver
) -> DeliveryActionOut:
    """Record a delivery whose outcome was lost as published at ``url`` (audited)."""
    return _out(
        confirm_delivery(
            session, delivery_id=delivery_id, url=body.url, now=now, actor=token_actor(caller)
        )
    )


@router.post("/api/deliveries/{delivery_id}/republish")
def republish(
    delivery_id: PathId, session: DbSession, now: Now, caller: Approver
) -> DeliveryActionOut:
    """Publish a delivery whose outcome was lost again, now: it may then be there twice."""
    return _out(
        republish_delivery(session, delivery_id=delivery_id, now=now, actor=token_actor(caller))
    )


@router.post("/api/series", status_code=status.HTTP_201_CREATED, tags=["series"])
def new_series(body: SeriesCreate, session: DbSession, now: Now, caller: Editor) -> SeriesOut:
    """Create a recurring series: one post per occurrence of ``rule`` from ``starts`` (local
    wall time, kept across DST), all or none; drafts unless ``approve``."""
    data = SeriesInput(
        post=body.post_input(),
        rule=body.rule,
        starts=body.starts,
        until=body.until,
        overlap=body.overlap,
        approve=body.approve,
    )
    series = create_series(session, data=data, now=now, actor=token_actor(caller))
    return SeriesOut.of(get_series(session, series_id=series.id, now=now))


@router.get("/api/series", tags=["series"])
def all_series(
    session: DbSession, now: Now, _: Viewer, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[SeriesOut]:
    """Series, newest first."""
    return [
        SeriesOut.of(get_series(session, series_id=s.id, now=now))
        for s in list_series(session, limit=limit)
    ]


@router.get("/api/series/{series_id}", tags=["series"])
def show_series(series_id: PathId, session: DbSession, now: Now, _: Viewer) -> SeriesOut:
    return SeriesOut.of(get_series(session, series_id=series_id, now=now))


@router.post("/api/series/{series_id}/cancel", tags=["series"])
def cancel_whole_series(
    series_id: PathId, session: DbSession, now: Now, caller: Approver
) -> SeriesCancelOut:
    """Cancel every future occurrence; past ones stay as they are."""
    cancelled = cancel_series(session, series_id=series_id, now=now, actor=token_actor(caller))
    return SeriesCancelOut(
        series=SeriesOut.of(get_series(session, series_id=series_id, now=now)),
        cancelled=cancelled,
    )
