"""What the composer, the campaign form and the post page show: their forms read into the
services' inputs, each platform's checks in the person's language, and the services'
refusals as translated messages."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qs

from markupsafe import Markup, escape

from campaigns.composing import COMPOSER_PLATFORMS, VariantCheck
from campaigns.schemas import CampaignInput, PostChanges, PostInput, VariantInput
from campaigns.series import OVERLAPS, SeriesInput
from connectors.errors import Violation
from publicist.core.errors import Conflict, Forbidden, InvalidInput, NotFound, PublicistError
from publicist.core.ids import parse_id
from publicist.web.calendar_view import Notice, refusal

Gettext = Callable[[str], str]
KindOf = Callable[[int], str | None]
"""The kind of the media library item with an id, or None when the library has no such item."""

MAX_COMPOSER_FIELDS = 200
"""A composer form has one field per text, media choice and account; more is not ours."""
_URL = re.compile(r"https?://[^\s<>\"'，。、）」]+")


def platform_namer(gettext: Gettext) -> Callable[[str], str]:
    """Each platform as people call it in their language (微博, not "weibo")."""
    names = {
        "twitter": gettext("X"),
        "weibo": gettext("Weibo"),
        "wechat": gettext("WeChat"),
        "tiktok": gettext("TikTok"),
        "douyin": gettext("Douyin"),
    }
    return lambda platform: names.get(platform, platform)


def read_multi_form(body: bytes) -> dict[str, list[str]]:
    """A url-encoded form with every value of each field (accounts are chosen by several);
    a body with more fields than any composer form is read as empty."""
    try:
        return parse_qs(
            body.decode("utf-8", errors="replace"),
            keep_blank_values=True,
            max_num_fields=MAX_COMPOSER_FIELDS,
        )
    except ValueError:
        return {}


def first(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def linkify(text: str) -> Markup:
    """Text as a platform shows it: escaped, line breaks kept, links clickable."""
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        parts.append(str(escape(text[position : match.start()])))
        url = match.group(0)
        parts.append(
            f'<a href="{escape(url)}" rel="noopener noreferrer nofollow">{escape(url)}</a>'
        )
        position = match.end()
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts).replace("\n", "<br>\n"))  # noqa: S704 - every part escaped


# ---------------------------------------------------------------------------------------
# The composer's form


@dataclass(frozen=True)
class VariantForm:
    text: str = ""
    title: str = ""
    digest: str = ""
    media_id: str = ""
    """A library item's id, or empty: the base's media."""


REPEATS: dict[str, str] = {
    "daily": "FREQ=DAILY",
    "weekdays": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "weekly": "FREQ=WEEKLY",
    "monthly": "FREQ=MONTHLY",
}
"""The composer's repetitions as RFC 5545 rules (the API and CLI take any rule)."""


@dataclass(frozen=True)
class ComposerForm:
    """The composer's fields as typed (strings, so a refused form is shown back as it was)."""

    campaign: str = ""
    text: str = ""
    media_id: str = ""
    accounts: list[str] = field(default_factory=list)
    """Chosen account ids."""
    date: str = ""
    time: str = ""
    at: str = ""
    """An exact time with its offset, chosen after a DST refusal."""
    revision: str = ""
    repeat: str = ""
    """A key of ``REPEATS`` (empty: one post)."""
    repeat_overlap: str = ""
    """For a repetition in the hour the clocks go back: "earlier" or "later" (empty: ask)."""
    repeat_until: str = ""
    """The last day (``YYYY-MM-DD``, in the campaign's zone) a repetition may fall on."""
    variants: dict[str, VariantForm] = field(default_factory=dict)

    @classmethod
    def parse(cls, form: dict[str, list[str]]) -> ComposerForm:
        variants = {
            platform: VariantForm(
                text=first(form, f"text_{platform}"),
                title=first(form, f"title_{platform}"),
                digest=first(form, f"digest_{platform}"),
                media_id=first(form, f"media_{platform}"),
            )
            for platform in COMPOSER_PLATFORMS
        }
        return cls(
            campaign=first(form, "campaign").strip(),
            text=first(form, "text"),
            media_id=first(form, "media"),
            accounts=[a for a in form.get("accounts", []) if a.strip()],
            date=first(form, "date").strip(),
            time=first(form, "time").strip(),
            at=first(form, "at").strip(),
            revision=first(form, "revision").strip(),
            repeat=first(form, "repeat").strip(),
            repeat_until=first(form, "repeat_until").strip(),
            repeat_overlap=first(form, "repeat_overlap").strip(),
            variants=variants,
        )

    def series_input(self, post: PostInput, *, approve: bool = False) -> SeriesInput:
        """The form as a recurring series: every occurrence at the typed wall time."""
        rule = REPEATS.get(self.repeat)
        if rule is None:
            raise InvalidInput("repeat", self.repeat, f"must be one of {', '.join(REPEATS)}")
        if not self.date or not self.time:
            raise InvalidInput("starts", self.typed_time, "needs a date and a time to repeat")
        try:
            until = date.fromisoformat(self.repeat_until)
        except ValueError:
            raise InvalidInput(
                "repeat_until", self.repeat_until, "must be the last day, as YYYY-MM-DD"
            ) from None
        overlap = OVERLAPS.get(self.repeat_overlap)
        if self.repeat_overlap and overlap is None:
            raise InvalidInput("repeat_overlap", self.repeat_overlap, "must be earlier or later")
        return SeriesInput(
            post=post,
            rule=rule,
            starts=f"{self.date} {self.time[:5]}",
            until=until,
            overlap=overlap,
            approve=approve,
        )

    @property
    def typed_time(self) -> str:
        """The publish time as the person gave it (empty: none yet)."""
        if self.at:
            return self.at
        return f"{self.date} {self.time}".strip() if self.date else ""

    def media_entries(self, kind_of: KindOf, media_id: str, where: str) -> list[dict[str, object]]:
        """One library item as a media entry (its kind from the library), or none."""
        if not media_id.strip():
            return []
        item = parse_id(media_id, field=where)
        kind = kind_of(item)
        if kind is None:
            raise InvalidInput(where, media_id, "is not in the media library")
        return [{"kind": kind, "media_id": item}]

    def variant_inputs(self, kind_of: KindOf, platforms: set[str]) -> dict[str, VariantInput]:
        """A variant for each chosen platform whose tab says anything of its own."""
        variants = {}
        for platform, typed in self.variants.items():
            if platform not in platforms:
                continue
            media = self.media_entries(kind_of, typed.media_id, f"media_{platform}")
            variant = VariantInput(
                text=typed.text if typed.text.strip() else None,
                title=typed.title if typed.title.strip() else None,
                digest=typed.digest if typed.digest.strip() else None,
                media=media or None,
            )
            if variant != VariantInput():
                variants[platform] = variant
        return variants

    def post_input(
        self, *, campaign: str, kind_of: KindOf, platforms: set[str], timed: bool
    ) -> PostInput:
        return PostInput(
            campaign=campaign,
            text=self.text,
            accounts=list(self.accounts),
            at=(self.typed_time or None) if timed else None,
            media=self.media_entries(kind_of, self.media_id, "media"),
            variants=self.variant_inputs(kind_of, platforms),
        )

    def changes(self, *, kind_of: KindOf, platforms: set[str]) -> PostChanges:
        """The whole post as typed, as an edit: platforms without a variant lose theirs."""
        given = self.variant_inputs(kind_of, platforms)
        variants: dict[str, VariantInput | None] = {p: None for p in COMPOSER_PLATFORMS}
        variants.update(given)
        return PostChanges(
            text=self.text,
            accounts=list(self.accounts),
            media=self.media_entries(kind_of, self.media_id, "media"),
            variants=variants,
        )


# ---------------------------------------------------------------------------------------
# Checks and refusals in the person's language


@dataclass(frozen=True)
class Shown:
    """A platform's check as the composer shows it."""

    check: VariantCheck
    messages: list[str]


def describe_violation(
    platform: str, violation: Violation, check: VariantCheck, gettext: Gettext
) -> str:
    """One broken rule in the person's language; a rule this table does not know keeps the
    connector's English wording after a translated lead."""
    name = platform_namer(gettext)(platform)
    counted = {c.field: c for c in check.counters}
    rule = violation.rule
    values = {"platform": name, "value": violation.value, "rule": rule, "field": violation.field}
    counter = counted.get(violation.field)
    if counter is not None and counter.over and "exceeds" in rule:
        values.update(used=str(counter.used), limit=str(counter.limit))
        if platform == "twitter":
            return (
                gettext(
                    "Too long for X: %(used)s of %(limit)s (Chinese, Japanese and Korean "
                    "characters and emoji count 2, each link 23)."
                )
                % values
            )
        if platform == "weibo":
            return (
                gettext(
                    "Too long for Weibo: %(used)s of %(limit)s (汉字 count 1, Latin letters ½, "
                    "each link 10)."
                )
                % values
            )
        if violation.field == "title":
            return (
                gettext("The title is too long for %(platform)s: %(used)s of %(limit)s.") % values
            )
        if violation.field == "digest":
            return (
                gettext("The digest is too long for %(platform)s: %(used)s of %(limit)s.") % values
            )
        return gettext("Too long for %(platform)s: %(used)s of %(limit)s.") % values
    if "must contain a link" in rule:
        return gettext("Weibo needs a link in the text (on the app's safe domain).")
    if "#topic#" in rule:
        return gettext("Weibo's share API does not accept #topics#: %(value)s") % values
    if "needs a cover" in rule:
        return gettext("A WeChat article needs a cover image: choose or upload one.")
    if "requires a title" in rule:
        return gettext("%(platform)s needs a title.") % values
    if "requires media" in rule:
        return gettext("%(platform)s needs a video: choose or upload one.") % values
    if rule.startswith("must not be empty"):
        return gettext("The text is empty.")
    return gettext("%(platform)s does not accept this: %(field)s %(value)s %(rule)s") % values


def shown_checks(checks: list[VariantCheck], gettext: Gettext) -> dict[str, Shown]:
    return {
        check.platform: Shown(
            check=check,
            messages=[
                describe_violation(check.platform, v, check, gettext) for v in check.violations
            ],
        )
        for check in checks
    }


_PLATFORM_RULE = re.compile(r"(\w+(?:\[\d+\])?)\[([a-z0-9_-]+)\]")
"""A field ``check_content`` names: the connector's field, then the platform in brackets."""
_SELF_APPROVAL = re.compile(r"does not allow self-approval")
_ROLE = re.compile(r"needs the (\w+) role; .* is (\w+)$")
_TRANSITION = re.compile(r"post (\d+) is (\w+); it cannot become (\w+)")
_EXPIRED = re.compile(r"post (\d+) expired")
_CHANGED = re.compile(r"was changed by someone else")
_CAMPAIGN_EXISTS = re.compile(r"campaign '(.*)' already exists")


def problem_notice(
    error: PublicistError,
    *,
    gettext: Gettext,
    value: str = "",
    now: str = "",
    states: dict[str, str] | None = None,
) -> Notice:
    """A service's refusal as a message on the page, in the person's language; a time the
    clocks skip or pass twice comes with the times to choose from."""
    names = states or {}
    message = str(error)
    if isinstance(error, InvalidInput):
        if error.field == "at" or error.field.endswith(".at"):
            return refusal(error, gettext=gettext, value=value or str(error.value), now=now)
        if error.field == "accounts" and error.rule.startswith("must name at least one"):
            return Notice("error", gettext("Choose at least one account to publish to."))
        if error.field == "text" and error.rule.startswith("must not be empty"):
            return Notice("error", gettext("The base text is empty: write what the post says."))
        if match := _PLATFORM_RULE.fullmatch(error.field):
            return Notice(
                "error",
                gettext(
                    "Not saved: %(platform)s does not accept this post (%(rule)s). Its tab "
                    "shows why."
                )
                % {"platform": platform_namer(gettext)(match[2]), "rule": error.rule},
            )
        return Notice(
            "error",
            gettext("%(field)s: %(value)s %(rule)s")
            % {"field": error.field, "value": str(error.value)[:200], "rule": error.rule},
        )
    if isinstance(error, Forbidden):
        if _SELF_APPROVAL.search(message):
            return Notice(
                "error",
                gettext(
                    "You wrote this post, and its campaign does not allow self-approval: "
                    "a colleague must approve it."
                ),
            )
        if match := _ROLE.search(message):
            return Notice(
                "error",
                gettext("This needs the %(needed)s role; you are %(role)s.")
                % {"needed": match[1], "role": match[2]},
            )
        return Notice("error", gettext("Refused: %(detail)s") % {"detail": message})
    if isinstance(error, Conflict):
        if _CHANGED.search(message):
            return Notice(
                "conflict",
                gettext(
                    "Someone else changed this post since you opened it, so your changes were "
                    "not saved. Reload the post to see theirs, then edit again."
                ),
            )
        if match := _EXPIRED.search(message):
            return Notice(
                "conflict",
                gettext(
                    "Post %(post)s expired: it was still in review at its time. Move it to a "
                    "later time first."
                )
                % {"post": match[1]},
            )
        if match := _TRANSITION.search(message):
            return Notice(
                "conflict",
                gettext("Post %(post)s is %(state)s now; it cannot become %(target)s.")
                % {
                    "post": match[1],
                    "state": names.get(match[2], match[2]),
                    "target": names.get(match[3], match[3]),
                },
            )
        if match := _CAMPAIGN_EXISTS.search(message):
            return Notice(
                "conflict",
                gettext("A campaign named %(name)s already exists.") % {"name": match[1]},
            )
        return Notice("conflict", gettext("Conflict: %(detail)s") % {"detail": message})
    if isinstance(error, NotFound):
        return Notice("error", gettext("Not found: %(what)s") % {"what": message})
    return Notice("error", message)


def post_state_names(gettext: Gettext) -> dict[str, str]:
    """Every post state, and the ``expired`` reads show, in the person's language."""
    return {
        "draft": gettext("draft"),
        "in_review": gettext("in review"),
        "rejected": gettext("rejected"),
        "approved": gettext("approved"),
        "scheduled": gettext("scheduled"),
        "cancelled": gettext("cancelled"),
        "expired": gettext("expired"),
    }


def action_names(gettext: Gettext) -> dict[str, str]:
    """The audit log's actions on a post, in the person's language."""
    return {
        "post.create": gettext("written"),
        "post.edit": gettext("edited"),
        "post.submit": gettext("submitted for review"),
        "post.approve": gettext("approved"),
        "post.reject": gettext("rejected"),
        "post.schedule": gettext("scheduled"),
        "post.reschedule": gettext("moved"),
        "post.cancel": gettext("cancelled"),
        "delivery.cancel": gettext("delivery cancelled"),
        "delivery.retry": gettext("delivery retried"),
    }


# ---------------------------------------------------------------------------------------
# The campaign form


@dataclass(frozen=True)
class CampaignForm:
    name: str = ""
    theme: str = ""
    description: str = ""
    timezone: str = ""
    starts_on: str = ""
    ends_on: str = ""
    hashtags: str = ""
    self_approval: bool = False

    @classmethod
    def parse(cls, form: dict[str, list[str]]) -> CampaignForm:
        return cls(
            name=first(form, "name"),
            theme=first(form, "theme"),
            description=first(form, "description"),
            timezone=first(form, "timezone").strip(),
            starts_on=first(form, "starts_on").strip(),
            ends_on=first(form, "ends_on").strip(),
            hashtags=first(form, "hashtags"),
            self_approval=first(form, "self_approval") == "on",
        )

    def campaign_input(self, *, owner: str) -> CampaignInput:
        return CampaignInput(
            name=self.name,
            timezone=self.timezone or None,
            theme=self.theme.strip() or None,
            description=self.description.strip() or None,
            starts_on=_day(self.starts_on, "starts_on"),
            ends_on=_day(self.ends_on, "ends_on"),
            hashtags=[t for t in re.split(r"[\s,，]+", self.hashtags) if t],
            owner=owner,
            self_approval=self.self_approval,
        )


def _day(value: str, where: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(where, value, "is not a date (YYYY-MM-DD)") from None
