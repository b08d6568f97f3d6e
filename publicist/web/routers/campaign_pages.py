"""``/campaigns``: the campaigns with their posts, and the form that creates one (editors and
up, through ``create_campaign``; allowing self-approval is the admin's decision, as in the
service)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.actors import person_actor
from campaigns.models import Campaign, Post
from campaigns.people.roles import Role
from campaigns.queries import list_posts_in
from campaigns.services import create_campaign
from campaigns.states import shown_state
from publicist.core.errors import Conflict, Forbidden, PublicistError
from publicist.core.zones import canonical_zone_names
from publicist.web.composer_view import (
    CampaignForm,
    post_state_names,
    problem_notice,
    read_multi_form,
)
from publicist.web.deps import AppSettings, DbSession, Now
from publicist.web.i18n import translations
from publicist.web.pages import FormBody, guard, may, problem
from publicist.web.templating import render
from publicist.web.visitor import CurrentVisitor, Visitor

router = APIRouter(include_in_schema=False)

POSTS_SHOWN = 200
"""A campaign's page lists its first posts; the calendar and the API read the rest."""


@router.get("/campaigns")
def campaign_list(request: Request, session: DbSession, visitor: CurrentVisitor) -> Response:
    if (stop := guard(request, visitor, Role.VIEWER)) is not None:
        return stop
    counts = dict(
        session.execute(select(Post.campaign_id, func.count()).group_by(Post.campaign_id)).all()
    )
    campaigns = list(session.scalars(select(Campaign).order_by(Campaign.id.desc())))
    context = {
        "visitor": visitor,
        "active": "campaigns",
        "here": "/campaigns",
        "campaigns": campaigns,
        "counts": counts,
        "may_write": may(visitor, Role.EDITOR),
    }
    return visitor.finish(render(visitor.language, "campaign_list.html", context))


def _form_page(
    visitor: Visitor,
    form: CampaignForm,
    *,
    default_zone: str,
    notice: Any = None,
    status: int = 200,
) -> Response:
    context = {
        "visitor": visitor,
        "active": "campaigns",
        "here": "/campaigns/new",
        "form": form,
        "zones": sorted(canonical_zone_names()),
        "default_zone": default_zone,
        "may_allow_self_approval": may(visitor, Role.ADMIN),
        "notice": notice,
    }
    response = render(visitor.language, "campaign_form.html", context, status=status)
    return visitor.finish(response)


@router.get("/campaigns/new")
def new_campaign(request: Request, visitor: CurrentVisitor, settings: AppSettings) -> Response:
    if (stop := guard(request, visitor, Role.EDITOR)) is not None:
        return stop
    form = CampaignForm(timezone=settings.default_timezone)
    return _form_page(visitor, form, default_zone=settings.default_timezone)


@router.post("/campaigns/new")
def create(
    request: Request,
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    settings: AppSettings,
    body: FormBody = b"",
) -> Response:
    raw = read_multi_form(body)
    single = {name: values[0] for name, values in raw.items() if values}
    if (stop := guard(request, visitor, Role.EDITOR, single)) is not None:
        return stop
    if visitor.person is None:
        return problem(visitor, 401, "")
    form = CampaignForm.parse(raw)
    try:
        campaign = create_campaign(
            session,
            data=form.campaign_input(owner=visitor.person.name[:100]),
            default_timezone=settings.default_timezone,
            now=now,
            actor=person_actor(visitor.person.id, visitor.person.role),
        )
    except PublicistError as error:
        session.rollback()
        gettext = translations(visitor.language).gettext
        notice = problem_notice(error, gettext=gettext)
        status = (
            409 if isinstance(error, Conflict) else 403 if isinstance(error, Forbidden) else 422
        )
        return _form_page(
            visitor, form, default_zone=settings.default_timezone, notice=notice, status=status
        )
    return RedirectResponse(f"/campaigns/{campaign.id}?done=created", status_code=303)


def _posts(session: Session, campaign: Campaign, now: Any) -> list[tuple[Post, str]]:
    posts = list_posts_in(session, now=now, campaign_id=campaign.id, limit=POSTS_SHOWN)
    return [(post, shown_state(post.state, post.publish_at, now=now)) for post in posts]


@router.get("/campaigns/{campaign_id}")
def campaign_page(
    campaign_id: int, request: Request, session: DbSession, now: Now, visitor: CurrentVisitor
) -> Response:
    if (stop := guard(request, visitor, Role.VIEWER)) is not None:
        return stop
    gettext = translations(visitor.language).gettext
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return problem(
            visitor, 404, gettext("Not found: %(what)s") % {"what": f"campaign {campaign_id}"}
        )
    context = {
        "visitor": visitor,
        "active": "campaigns",
        "here": f"/campaigns/{campaign.id}",
        "campaign": campaign,
        "posts": _posts(session, campaign, now),
        "post_states": post_state_names(gettext),
        "may_write": may(visitor, Role.EDITOR),
        "created": request.query_params.get("done") == "created",
    }
    return visitor.finish(render(visitor.language, "campaign_page.html", context))
