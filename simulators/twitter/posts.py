"""Posts on the simulated X: create (weighed, deduplicated), look up with metrics, timeline."""

from __future__ import annotations

import html
import string
import unicodedata
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, Response

from simulators.harness import (
    DropConnection,
    Fault,
    Grant,
    SimAccount,
    SimPost,
    Simulation,
)
from simulators.twitter import text as x_text
from simulators.twitter.media import media_ready
from simulators.twitter.wire import (
    PROBLEMS,
    XSimulator,
    invalid_request,
    not_found,
    parse_time,
    problem,
    read_json,
    setting,
    timestamp,
)

# X's public_metrics, in the order X lists them, and the growth-model counter behind each:
# the model's rates carry X's own names, so ``/__sim/truth`` totals read like the wire
# (``views`` is the harness's name for impressions).
PUBLIC_METRICS: Mapping[str, str] = {
    "retweet_count": "retweet_count",
    "reply_count": "reply_count",
    "like_count": "like_count",
    "quote_count": "quote_count",
    "bookmark_count": "bookmark_count",
    "impression_count": "views",
}
TWEET_FIELDS = frozenset(
    {
        "id",
        "text",
        "edit_history_tweet_ids",
        "created_at",
        "author_id",
        "attachments",
        "conversation_id",
        "lang",
        "public_metrics",
        "non_public_metrics",
        "organic_metrics",
    }
)


def _tco(sim: Simulation) -> str:
    alphabet = string.ascii_letters + string.digits
    return "https://t.co/" + "".join(sim.rng.choice(alphabet) for _ in range(10))


def shown_text(sim: Simulation, text: str, media: bool) -> str:
    """The text as X keeps it: links become t.co links, and a media post gains one for its media."""
    text = unicodedata.normalize("NFC", text)
    pieces: list[str] = []
    cursor = 0
    for start, end in x_text.link_spans(text):
        pieces.extend([text[cursor:start], _tco(sim)])
        cursor = end
    pieces.append(text[cursor:])
    shown = "".join(pieces)
    if media:
        shown = f"{shown} {_tco(sim)}" if shown else _tco(sim)
    return shown


def _duplicate_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


_DUPLICATES = "x:text"
"""The simulation's index of posts by their duplicate key, kept as each post is made."""


def is_duplicate(sim: Simulation, account: SimAccount, text: str) -> bool:
    """One look-up of the account's posts with the same text, however many posts exist."""
    key = _duplicate_key(text)
    if not key:
        return False
    since = sim.clock.now() - timedelta(seconds=float(setting(account, "duplicate_window_seconds")))
    with_deleted = bool(setting(account, "deleted_posts_count_as_duplicates"))
    return any(
        post.created_at >= since and (with_deleted or not post.deleted)
        for post in sim.posts_by_key(_DUPLICATES, account.account_id, key)
    )


def metrics(sim: Simulation, post: SimPost) -> dict[str, int]:
    counters = sim.engagement(post)
    return {name: int(counters.get(source, 0)) for name, source in PUBLIC_METRICS.items()}


def tweet_object(
    sim: Simulation, post: SimPost, fields: frozenset[str], grant: Grant
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One post as ``GET /2/tweets`` renders it, and the field errors it raised."""
    obj: dict[str, Any] = {
        "id": post.remote_id,
        "text": html.escape(str(post.extra.get("shown_text", post.text)), quote=False),
        "edit_history_tweet_ids": [post.remote_id],
    }
    errors: list[dict[str, Any]] = []
    if "created_at" in fields:
        obj["created_at"] = timestamp(post.created_at)
    if "author_id" in fields:
        obj["author_id"] = post.account_id
    if "conversation_id" in fields:
        obj["conversation_id"] = post.remote_id
    if "lang" in fields:
        obj["lang"] = "und"
    if "attachments" in fields and post.extra.get("media_keys"):
        obj["attachments"] = {"media_keys": list(post.extra["media_keys"])}
    public = metrics(sim, post)
    if "public_metrics" in fields:
        obj["public_metrics"] = public
    private = fields & {"non_public_metrics", "organic_metrics"}
    if private:
        recent = sim.clock.now() - post.created_at <= timedelta(days=30)
        owner = grant.account_id == post.account_id
        clicks = {
            "url_link_clicks": public["impression_count"] // 100,
            "user_profile_clicks": public["impression_count"] // 200,
        }
        for name in sorted(private):
            if not (owner and recent):
                errors.append(
                    {
                        "value": post.remote_id,
                        "detail": (
                            f"Sorry, you are not authorized to access '{name}' on a Tweet "
                            "that is not yours or is older than 30 days."
                        ),
                        "title": "Field Authorization Error",
                        "resource_type": "tweet",
                        "field": name,
                        "parameter": "tweet.fields",
                        "resource_id": post.remote_id,
                        "section": "data",
                        "type": PROBLEMS + "not-authorized-for-field",
                    }
                )
            elif name == "non_public_metrics":
                obj[name] = dict(clicks)
            else:
                keep = ("impression_count", "like_count", "reply_count", "retweet_count")
                obj[name] = {key: public[key] for key in keep} | clicks
    return obj, errors


def parse_fields(request: Request) -> frozenset[str] | JSONResponse:
    raw = request.query_params.get("tweet.fields", "")
    fields = frozenset(f.strip() for f in raw.split(",") if f.strip())
    unknown = sorted(fields - TWEET_FIELDS)
    if unknown:
        return invalid_request(
            f"The `tweet.fields` query parameter value [{unknown[0]}] is not one of "
            f"[{', '.join(sorted(TWEET_FIELDS))}]",
            "tweet.fields",
        )
    return fields


def register(app: FastAPI, x: XSimulator) -> None:
    """The user and post endpoints."""
    sim = x.sim
    sim.index_posts(_DUPLICATES, _duplicate_key)

    async def me(request: Request, grant: Grant, account: SimAccount, _: Fault | None) -> Response:
        handle = account.handle.lstrip("@")
        return JSONResponse(
            {"data": {"id": account.account_id, "name": handle, "username": handle}}
        )

    @app.get("/2/users/me")
    async def users_me(request: Request) -> Response:
        return await x.handle(request, "GET /2/users/me", me, scopes=("users.read",))

    async def timeline(
        request: Request, grant: Grant, account: SimAccount, _: Fault | None
    ) -> Response:
        user_id = request.path_params["user_id"]
        q = request.query_params
        fields = parse_fields(request)
        if isinstance(fields, JSONResponse):
            return fields
        try:
            count = int(q.get("max_results", "10"))
            start = parse_time(q["start_time"]) if "start_time" in q else None
            end = parse_time(q["end_time"]) if "end_time" in q else None
            offset = int(q["pagination_token"][2:], 16) if "pagination_token" in q else 0
            since_id = int(q.get("since_id", "0"))
            until_id = int(q["until_id"]) if "until_id" in q else None
        except (ValueError, KeyError):
            return invalid_request("a query parameter is malformed")
        if not 5 <= count <= 100:
            return invalid_request(
                f"The `max_results` query parameter value [{count}] is not between 5 and 100",
                "max_results",
            )
        if user_id not in sim.accounts:
            return JSONResponse({"errors": [not_found(user_id, "user", "id")]})
        posts = [
            p
            for p in sim.live_posts(user_id)
            if (start is None or p.created_at >= start)
            and (end is None or p.created_at < end)
            and int(p.remote_id) > since_id
            and (until_id is None or int(p.remote_id) < until_id)
        ]
        page = posts[offset : offset + count]
        if not page:
            return JSONResponse({"meta": {"result_count": 0}})
        meta: dict[str, Any] = {
            "result_count": len(page),
            "newest_id": page[0].remote_id,
            "oldest_id": page[-1].remote_id,
        }
        if offset + count < len(posts):
            meta["next_token"] = f"pt{offset + count:012x}"
        data = [tweet_object(sim, post, fields, grant)[0] for post in page]
        return JSONResponse({"data": data, "meta": meta})

    @app.get("/2/users/{user_id}/tweets")
    async def users_tweets(request: Request) -> Response:
        return await x.handle(
            request, "GET /2/users/:id/tweets", timeline, scopes=("tweet.read", "users.read")
        )

    async def create(
        request: Request, grant: Grant, account: SimAccount, fault: Fault | None
    ) -> Response:
        body = await read_json(request)
        if isinstance(body, JSONResponse):
            return body
        text = body.get("text", "")
        media_ids = (body.get("media") or {}).get("media_ids") or []
        if not isinstance(text, str) or not isinstance(media_ids, list):
            return invalid_request("text must be a string and media.media_ids a list")
        if not text.strip() and not media_ids:
            return invalid_request("One of text or media is required.")
        if text and x_text.weighted_length(text) > x_text.LIMIT:
            return problem(400, "Invalid Request", "Your Tweet text is too long.")
        if x_text.refused_characters(text):
            return problem(400, "Invalid Request", "Your Tweet text has invalid characters.")
        records = [media_ready(sim, account, str(media_id)) for media_id in media_ids]
        categories = [r["category"] for r in records if r is not None]
        if None in records or len(set(map(str, media_ids))) != len(media_ids):
            return problem(400, "Invalid Request", "Your media IDs are invalid.")
        moving = [c for c in categories if c != "tweet_image"]
        if len(categories) > 4 or (moving and len(categories) > 1):
            return problem(400, "Invalid Request", "Attach up to 4 images, or 1 GIF, or 1 video.")
        lowered = text.lower()
        if any(str(word).lower() in lowered for word in setting(account, "blocked_words")):
            return problem(403, "Forbidden", "You are not permitted to perform this action.")
        if is_duplicate(sim, account, text):
            return problem(
                403,
                "Forbidden",
                "You are not allowed to create a Tweet with duplicate content.",
            )
        tweet_id = sim.snowflake()
        shown = shown_text(sim, text, bool(media_ids))
        post = sim.record_post(
            account.account_id,
            text,
            remote_id=tweet_id,
            url=f"https://x.com/{account.handle.lstrip('@')}/status/{tweet_id}",
            shown_text=shown,
            media_ids=[str(m) for m in media_ids],
            media_keys=[r["media_key"] for r in records if r is not None],
        )
        if fault is Fault.DROP_AFTER_COMMIT:
            return DropConnection()
        data = {
            "id": post.remote_id,
            "text": html.escape(shown, quote=False),
            "edit_history_tweet_ids": [post.remote_id],
        }
        return JSONResponse({"data": data}, status_code=int(setting(account, "created_status")))

    @app.post("/2/tweets")
    async def tweets_create(request: Request) -> Response:
        return await x.handle(
            request, "POST /2/tweets", create, scopes=("tweet.write",), creates=True
        )

    async def lookup(
        request: Request, grant: Grant, account: SimAccount, _: Fault | None
    ) -> Response:
        fields = parse_fields(request)
        if isinstance(fields, JSONResponse):
            return fields
        raw = request.query_params.get("ids")
        if raw is None:
            return invalid_request("The `ids` query parameter can not be empty", "ids")
        ids = [i.strip() for i in raw.split(",") if i.strip()]
        if not 1 <= len(ids) <= 100:
            return invalid_request(f"size [{len(ids)}] is not between 1 and 100", "ids")
        bad = next((i for i in ids if not i.isdigit()), None)
        if bad is not None:
            return invalid_request(f"The `ids` query parameter value [{bad}] is not valid", "ids")
        data: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for tweet_id in ids:
            post = sim.posts.get(tweet_id)
            if post is None or post.deleted:
                errors.append(not_found(tweet_id, "tweet", "ids"))
                continue
            obj, field_errors = tweet_object(sim, post, fields, grant)
            data.append(obj)
            errors.extend(field_errors)
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return JSONResponse(body)

    @app.get("/2/tweets")
    async def tweets_lookup(request: Request) -> Response:
        return await x.handle(request, "GET /2/tweets", lookup, scopes=("tweet.read",))

    async def single(
        request: Request, grant: Grant, account: SimAccount, _: Fault | None
    ) -> Response:
        fields = parse_fields(request)
        if isinstance(fields, JSONResponse):
            return fields
        tweet_id = request.path_params["tweet_id"]
        post = sim.posts.get(tweet_id)
        if post is None or post.deleted:
            return JSONResponse({"errors": [not_found(tweet_id, "tweet", "id")]})
        obj, errors = tweet_object(sim, post, fields, grant)
        return JSONResponse({"data": obj, **({"errors": errors} if errors else {})})

    @app.get("/2/tweets/{tweet_id}")
    async def tweets_single(request: Request) -> Response:
        return await x.handle(request, "GET /2/tweets/:id", single, scopes=("tweet.read",))

    async def delete(
        request: Request, grant: Grant, account: SimAccount, _: Fault | None
    ) -> Response:
        tweet_id = request.path_params["tweet_id"]
        post = sim.posts.get(tweet_id)
        if post is None or post.deleted:
            return problem(
                404,
                "Not Found Error",
                f"Could not find tweet with id: [{tweet_id}].",
                PROBLEMS + "resource-not-found",
            )
        if post.account_id != account.account_id:
            return problem(
                403, "Forbidden", "You are not allowed to delete a Tweet that is not yours."
            )
        post.deleted = True
        return JSONResponse({"data": {"deleted": True}})

    @app.delete("/2/tweets/{tweet_id}")
    async def tweets_delete(request: Request) -> Response:
        return await x.handle(request, "DELETE /2/tweets/:id", delete, scopes=("tweet.write",))
