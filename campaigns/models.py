"""Tables of the domain: accounts, campaigns, posts with per-platform variants, deliveries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.states import AccountStatus, DeliveryState, LatePolicy, PostState
from publicist.core.database import Base, UTCDateTime

NEVER_TRIED = "state = 'scheduled' AND attempts = 0 AND reserved_slot_at IS NULL"
"""Predicate of a partial index of the deliveries; the query using it repeats the same terms
with literal values (a bound parameter would hide them from the planner)."""
ENDED_BADLY_WHERE = "state IN ('failed', 'unknown', 'missed')"
"""Predicate of the partial index of deliveries that ended badly (campaigns.states.ENDED_BADLY);
queries name the states as literals too (campaigns.queries.in_states)."""
PUBLISHED_WHERE = "state = 'published'"
IN_REVIEW_WHERE = "state = 'in_review'"
"""Predicate of the index of posts in review (the inbox's expired reviews, campaigns.queries)."""

LEASED = "state = 'publishing'"
"""Predicate of the reconciler's index: only attempts in flight, by lease end."""
SUBMITTED = "state = 'submitted'"
"""Predicate of the submission poll's index: only publishes the platform still processes."""
METRICS_UNPLANNED = "state = 'published' AND remote_id IS NOT NULL AND metrics_planned = false"
"""Predicate of the collection planner's queue: published, measurable, not yet planned."""


def _enum(cls: type[PostState] | type[DeliveryState] | type[AccountStatus], name: str) -> Enum:
    # Stored as plain strings (no native enum), identical on SQLite and PostgreSQL; the values
    # are checked by the state machine in campaigns/states.py.
    return Enum(
        cls, name=name, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
    )


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform", "handle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(100))
    api_base_url: Mapped[str | None] = mapped_column(String(500))
    credentials_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rate_limit_requests: Mapped[int | None] = mapped_column(Integer)
    rate_limit_per_seconds: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[AccountStatus] = mapped_column(
        _enum(AccountStatus, "account_status"),
        default=AccountStatus.ACTIVE,
        server_default=AccountStatus.ACTIVE.value,
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    """Why it needs reconnecting (the platform's refusal, never a token), or who disabled it."""
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def label(self) -> str:
        return f"{self.platform}:{self.handle}"

    def __repr__(self) -> str:  # never shows credentials
        return f"Account(id={self.id}, {self.label})"


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    theme: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    hashtags: Mapped[list[str]] = mapped_column(JSON, default=list)
    owner: Mapped[str | None] = mapped_column(String(100))
    late_policy: Mapped[LatePolicy] = mapped_column(
        Enum(
            LatePolicy,
            name="late_policy",
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=LatePolicy.PUBLISH,
        server_default=LatePolicy.PUBLISH.value,
    )
    """What to do with a delivery found long after its time (the system was down)."""
    self_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Whether a person may approve a post they wrote themselves (off: a colleague must)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    posts: Mapped[list[Post]] = relationship(back_populates="campaign")


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        # The inbox count (every workspace page's header) counts expired reviews: only the
        # posts in review, by publish time.
        Index(
            "ix_posts_in_review_publish_at",
            "publish_at",
            sqlite_where=text(IN_REVIEW_WHERE),
            postgresql_where=text(IN_REVIEW_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(200))
    media: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    state: Mapped[PostState] = mapped_column(_enum(PostState, "post_state"))
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(Integer)
    """The id of the person who wrote it (people are disabled, never deleted, so no foreign
    key); None when the CLI or a token without an owner did."""
    review_comment: Mapped[str | None] = mapped_column(Text)
    """The approver's reason for the last rejection, kept until it is submitted again."""
    series_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """The recurring series this post is one occurrence of (campaigns.series), if any."""

    campaign: Mapped[Campaign] = relationship(back_populates="posts")
    variants: Mapped[list[PostVariant]] = relationship(
        back_populates="post", cascade="all, delete-orphan"
    )
    targets: Mapped[list[PostTarget]] = relationship(
        back_populates="post", cascade="all, delete-orphan"
    )
    deliveries: Mapped[list[Delivery]] = relationship(back_populates="post")


class PostVariant(Base):
    """A post's text/title/digest/media for one platform, overriding the base where set."""

    __tablename__ = "post_variants"
    __table_args__ = (UniqueConstraint("post_id", "platform"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(200))
    digest: Mapped[str | None] = mapped_column(String(500))
    media: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    post: Mapped[Post] = relationship(back_populates="variants")


class PostTarget(Base):
    """An account a post is meant for, chosen before the post is scheduled."""

    __tablename__ = "post_targets"
    __table_args__ = (UniqueConstraint("post_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))

    post: Mapped[Post] = relationship(back_populates="targets")
    account: Mapped[Account] = relationship()


class Delivery(Base):
    """One post to one account: the unit that is published, retried and measured."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("post_id", "account_id"),
        # The dispatcher's claim: due work in one state, oldest first.
        Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
        # The same index finds queued deliveries whose message may be lost (a range read of
        # the late ones: campaigns.publishing.resend_lost). The other per-tick reads each use
        # a partial index holding only what they look for, so they cost the same at 10
        # thousand and 10 million deliveries: the missed-post check reads never-tried
        # deliveries by due time, the reconciler attempts in flight by lease end, the
        # submission poll submitted publishes (campaigns.publishing, campaigns.reconcile).
        # A partial index never leads with a column its predicate fixes: PostgreSQL drops
        # the implied condition, and a range on the second column then reads the whole
        # index (measured by benchmarks/ticks.py: 3,218 pages for 20 rows at 1M deliveries).
        Index(
            "ix_deliveries_never_tried_due_at",
            "due_at",
            sqlite_where=text(NEVER_TRIED),
            postgresql_where=text(NEVER_TRIED),
        ),
        Index(
            "ix_deliveries_publishing_lease_until",
            "lease_until",
            sqlite_where=text(LEASED),
            postgresql_where=text(LEASED),
        ),
        Index(
            "ix_deliveries_submitted_updated_at",
            "updated_at",
            sqlite_where=text(SUBMITTED),
            postgresql_where=text(SUBMITTED),
        ),
        # Collection planning's queue (metrics.collection.plan_new): published deliveries
        # not planned yet; planning one takes it out, so the index stays a few rows long.
        Index(
            "ix_deliveries_metrics_unplanned",
            "id",
            sqlite_where=text(METRICS_UNPLANNED),
            postgresql_where=text(METRICS_UNPLANNED),
        ),
        # Reads of what needs attention walk only the deliveries that ended badly, by due time
        # (campaigns.queries); an account's first and last publish times are two index ends.
        Index(
            "ix_deliveries_ended_badly_due_at",
            "due_at",
            "id",
            sqlite_where=text(ENDED_BADLY_WHERE),
            postgresql_where=text(ENDED_BADLY_WHERE),
        ),
        # One campaign's failures list: the first rows of one range (revision 0022).
        Index(
            "ix_deliveries_ended_badly_campaign_due_at",
            "campaign_id",
            "due_at",
            "id",
            sqlite_where=text(ENDED_BADLY_WHERE),
            postgresql_where=text(ENDED_BADLY_WHERE),
        ),
        # A calendar month of one campaign: one range of this index (campaigns.calendar).
        Index("ix_deliveries_campaign_due_at", "campaign_id", "due_at", "id"),
        Index(
            "ix_deliveries_account_published_at",
            "account_id",
            "published_at",
            sqlite_where=text(PUBLISHED_WHERE),
            postgresql_where=text(PUBLISHED_WHERE),
        ),
        # A publish task names its delivery by id: an id of a removed delivery (an edit
        # removes those not started) must never be given to a new one (migration 0009).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Looked up by post through the unique (post, account) index: no index of its own.
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    """The post's campaign, written by the database on insert (migration 0018), never by
    Python: an object inserted in this session holds None until refreshed."""
    state: Mapped[DeliveryState] = mapped_column(_enum(DeliveryState, "delivery_state"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ticket: Mapped[int] = mapped_column(Integer, default=0)
    """Raised each time the delivery is queued; a publish task must present the current one."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reserved_slot_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """A rate-limit slot held for this delivery; when set, it publishes without asking again."""
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lateness_ms: Mapped[int | None] = mapped_column(Integer)
    remote_id: Mapped[str | None] = mapped_column(String(200))
    submission_id: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(1000))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_code: Mapped[str | None] = mapped_column(String(64))
    last_error_kind: Mapped[str | None] = mapped_column(String(32))
    """The class of the last error (campaigns.reasons.ErrorKind): what the inbox explains."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    metrics_planned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Whether collection has planned it (given it a ``delivery_metrics`` row): the
    planner's queue is the published deliveries where this is still false."""

    post: Mapped[Post] = relationship(back_populates="deliveries")
    account: Mapped[Account] = relationship()
    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="delivery", order_by="DeliveryAttempt.id"
    )

    @property
    def marker(self) -> str:
        """Unique per delivery; lets reconciliation find the post on the platform."""
        return f"publicist-{self.id}"


class DeliveryCount(Base):
    """How many deliveries of a campaign's posts one account has in one state.

    Written only by the database's triggers on ``deliveries`` (migration 0018), in the same
    transaction as each insert, state change and delete; reads sum it instead of grouping
    deliveries. One row per account, not per campaign, so concurrent transitions of
    different accounts never wait for each other. Rows whose count fell to 0 stay.
    """

    __tablename__ = "delivery_counts"
    __table_args__ = (
        Index("ix_delivery_counts_account_campaign", "account_id", "campaign_id", "state"),
    )

    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class DeliveryAttempt(Base):
    """Evidence of one publish attempt, written before the platform is called."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(32))
    platform_code: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    delivery: Mapped[Delivery] = relationship(back_populates="attempt_log")


class PostSeries(Base):
    """A recurring series: an RFC 5545 rule over a local wall time; each occurrence is a post."""

    __tablename__ = "post_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    rule: Mapped[str] = mapped_column(String(500))
    """The RRULE value, e.g. ``FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR``."""
    starts_local: Mapped[str] = mapped_column(String(16))
    """The first occurrence's wall time in ``timezone`` (``YYYY-MM-DD HH:MM``)."""
    until_on: Mapped[date | None] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    overlap: Mapped[str | None] = mapped_column(String(8))
    """``earlier`` or ``later``: which of a fall-back hour's two times the series takes."""
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DispatchHeartbeat(Base):
    """One row: when the dispatcher last ran, so pages can tell that the beat has stopped."""

    __tablename__ = "dispatch_heartbeat"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    ticked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MediaItem(Base):
    """A file in Publicist's media library: type and size read from its bytes on upload.

    ``stored_name`` (sha256 and extension) is chosen by Publicist and is the only name ever
    used on disk; ``name`` is for people and is never used as a path.
    """

    __tablename__ = "media_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
