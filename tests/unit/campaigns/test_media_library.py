"""The media library and media references in posts: library ids or http(s) URLs, never paths."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.audit.log import post_fields
from campaigns.content import LOCAL_PATH_HIDDEN, content_for, shown_media
from campaigns.importing import ImportFailed, import_schedule, parse_media
from campaigns.media import Upload, add_media, add_media_file, display_name, get_media, media_file
from campaigns.models import MediaItem, Post
from campaigns.schemas import PostInput, VariantInput
from campaigns.services import add_post
from connectors.base import LEGACY_MEDIA_RULE
from connectors.mock import MockConnector
from publicist.core.errors import InvalidInput, NotFound
from tests import factories

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
GIF = b"GIF89a" + b"\x00" * 100


@pytest.fixture
def world(session: Session) -> Session:
    factories.account(session, handle="@IPRinCN", now=NOW)
    factories.campaign(session, name="IP Week", now=NOW)
    session.flush()
    return session


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    return tmp_path / "media"


def upload(session: Session, media_dir: Path, data: bytes, name: str = "poster") -> MediaItem:
    with Upload(media_dir) as staged:
        for start in range(0, len(data), 1000):
            staged.write(data[start : start + 1000])
        return add_media(session, upload=staged, name=name, now=NOW)


def leftovers(media_dir: Path) -> list[str]:
    return sorted(p.name for p in media_dir.iterdir() if p.name.startswith("."))


def post_with(media: list[dict[str, object]], **variants: VariantInput) -> PostInput:
    return PostInput(
        campaign="IP Week",
        text="Posters",
        accounts=["mock:@IPRinCN"],
        media=media,
        variants=variants,
    )


# -- the library --------------------------------------------------------------------------
def test_the_same_bytes_twice_are_one_item_stored_under_its_sha256(
    world: Session, media_dir: Path
) -> None:
    first = upload(world, media_dir, PNG, name="../../etc/poster\x1b[31m.png")
    again = upload(world, media_dir, PNG, name="another name")
    assert again.id == first.id
    assert (first.kind, first.content_type, first.size_bytes) == ("image", "image/png", len(PNG))
    assert first.name == "poster[31m.png"  # the escape character is gone
    assert first.stored_name == f"{first.sha256}.png"
    assert media_file(first, media_dir=media_dir).read_bytes() == PNG
    assert leftovers(media_dir) == []
    assert get_media(world, first.id) is first
    with pytest.raises(NotFound):
        get_media(world, first.id + 1000)


def test_a_text_file_named_jpg_is_refused_and_nothing_is_kept(
    world: Session, media_dir: Path, tmp_path: Path
) -> None:
    key = tmp_path / "poster.jpg"
    key.write_text("PUBLICIST_SECRET_KEY=abc\n")
    with pytest.raises(InvalidInput) as caught:
        add_media_file(world, path=key, media_dir=media_dir, name=None, now=NOW)
    assert caught.value.field == "file"
    assert "checked by content" in caught.value.rule
    assert str(tmp_path) not in str(caught.value)
    assert list(media_dir.iterdir()) == []
    assert world.scalar(select(func.count()).select_from(MediaItem)) == 0


def test_each_kind_has_its_size_cap(world: Session, media_dir: Path) -> None:
    with pytest.raises(InvalidInput, match="exceeds the 5 MiB limit for a image"):
        upload(world, media_dir, PNG + b"\x00" * (5 * 1024 * 1024))
    seven_mib_gif = GIF + b"\x00" * (7 * 1024 * 1024)
    assert upload(world, media_dir, seven_mib_gif).kind == "gif"  # GIFs may reach 15 MiB
    assert leftovers(media_dir) == []


def test_an_upload_over_the_largest_cap_stops_while_streaming(media_dir: Path) -> None:
    with Upload(media_dir) as staged:
        staged.size = 512 * 1024 * 1024  # as if that much had arrived already
        with pytest.raises(InvalidInput, match="largest media file"):
            staged.write(b"\x00")
    assert leftovers(media_dir) == []


def test_display_names_are_for_people_only() -> None:
    assert display_name("C:\\Users\\me\\poster.jpg") == "poster.jpg"
    assert display_name("  a\tb\nc\x00 ") == "abc"
    assert display_name("") == "upload"
    assert len(display_name("x" * 500)) == 200


# -- references in posts ------------------------------------------------------------------
def test_a_local_path_is_refused_at_creation_and_not_echoed(world: Session, tmp_path: Path) -> None:
    key = tmp_path / "publicist.key"
    key.write_text("the key")
    with pytest.raises(InvalidInput) as caught:
        add_post(world, data=post_with([{"kind": "image", "source": str(key)}]), now=NOW)
    assert caught.value.field == "media[0].source"
    assert "media library" in caught.value.rule
    assert str(key) not in str(caught.value)
    variant = VariantInput(media=[{"kind": "image", "source": str(key)}])
    with pytest.raises(InvalidInput, match=r"variant\[mock\]\.media\[0\]\.source"):
        add_post(world, data=post_with([], mock=variant), now=NOW)


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"kind": "image"}, "media[0]"),
        ({"kind": "image", "media_id": 1, "url": "https://cdn.example.com/a.png"}, "media[0]"),
        ({"kind": "image", "media_id": 999}, "media[0].media_id"),
        ({"kind": "image", "media_id": True}, "media[0].media_id"),
        ({"kind": "image", "url": "file:///etc/passwd"}, "media[0].url"),
        ({"kind": "image", "url": "/etc/passwd"}, "media[0].url"),
        ({"kind": "image", "url": "https://user:pw@cdn.example.com/a.png"}, "media[0].url"),
        ({"kind": "poster", "url": "https://cdn.example.com/a.png"}, "media[0].kind"),
        ({"kind": "image", "url": "https://cdn.example.com/a.png", "path": "x"}, "media[0]"),
    ],
)
def test_every_bad_reference_names_its_field(
    world: Session, entry: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        add_post(world, data=post_with([entry]), now=NOW)
    assert caught.value.field == field


def test_a_library_item_of_another_kind_is_refused(world: Session, media_dir: Path) -> None:
    gif = upload(world, media_dir, GIF)
    with pytest.raises(InvalidInput, match="which is a gif"):
        add_post(world, data=post_with([{"kind": "image", "media_id": gif.id}]), now=NOW)


def test_library_items_and_urls_reach_the_connector_resolved(
    world: Session, media_dir: Path
) -> None:
    item = upload(world, media_dir, PNG)
    media: list[dict[str, object]] = [
        {"kind": "image", "media_id": item.id, "alt_text": "a poster"},
        {"kind": "image", "url": "https://cdn.example.com/b.jpg"},
    ]
    post = add_post(world, data=post_with(media), now=NOW)
    content = content_for(post, "mock", marker="m")
    first, second = content.media
    assert (first.media_id, first.library_file, first.alt_text) == (
        item.id,
        item.stored_name,
        "a poster",
    )
    assert (first.mime_type, first.size_bytes) == ("image/png", len(PNG))
    assert (second.url, second.library_file) == ("https://cdn.example.com/b.jpg", None)


def test_a_stored_legacy_path_breaks_the_rules_and_is_never_read(
    world: Session, tmp_path: Path
) -> None:
    post = add_post(world, data=post_with([]), now=NOW)
    key = tmp_path / "publicist.key"
    post.media = [{"kind": "image", "source": str(key)}]  # as rows written before the library
    world.flush()
    stored = world.get(Post, post.id)
    assert stored is not None
    content = content_for(stored, "mock", marker="m")
    (violation,) = MockConnector.validate(content)
    assert (violation.field, violation.rule) == ("media[0]", LEGACY_MEDIA_RULE)
    assert str(key) not in str(violation)
    assert shown_media(stored.media) == [{"kind": "image", "source": LOCAL_PATH_HIDDEN}]
    assert str(key) not in str(post_fields(stored))  # the audit log never copies it
    legacy_url = [{"kind": "image", "source": "https://cdn.example.com/a.png"}]
    post.media = legacy_url
    assert content_for(post, "mock", marker="m").media[0].url == legacy_url[0]["source"]
    assert shown_media(post.media) == legacy_url


# -- the CSV media column and the CLI's --media -------------------------------------------
def test_media_references_parse_as_ids_or_urls() -> None:
    assert parse_media("image:12; video:https://cdn.example.com/clip.mp4") == [
        {"kind": "image", "media_id": 12},
        {"kind": "video", "url": "https://cdn.example.com/clip.mp4"},
    ]
    for value in ("image:/etc/publicist.key", "image:poster.jpg", "image:١٢", "poster.jpg"):
        with pytest.raises(InvalidInput) as caught:
            parse_media(value)
        assert "KIND:MEDIA_ID or KIND:URL" in caught.value.rule
        assert "publicist.key" not in str(caught.value)
        assert "poster" not in str(caught.value.value)


def test_the_csv_media_column_takes_library_ids(world: Session, media_dir: Path) -> None:
    item = upload(world, media_dir, PNG)
    lines = [
        "campaign,at,accounts,text,media",
        f"IP Week,2026-04-21 09:30,mock:@IPRinCN,With a poster,image:{item.id}",
    ]
    imported = import_schedule(world, lines=io.StringIO("\n".join(lines)), now=NOW)
    (post_id,) = imported.post_ids
    post = world.get(Post, post_id)
    assert post is not None
    assert post.media == [{"kind": "image", "media_id": item.id}]
    lines[1] = "IP Week,2026-04-21 09:30,mock:@IPRinCN,With a key,image:/etc/publicist.key"
    with pytest.raises(ImportFailed, match="line 2: media") as caught:
        import_schedule(world, lines=io.StringIO("\n".join(lines)), now=NOW)
    assert "/etc/publicist.key" not in str(caught.value)
