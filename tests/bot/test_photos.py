"""A shopper's photo (issue #19): only JPEG, PNG and WebP within the size limit are kept, re-encoded
upright with no metadata; everything else is refused with nothing stored. Also: the same photo
kept once, the per-hour cap, the console's views, the bot's acknowledgement, the evidence in a
damaged-item report, and erasure with the shopper."""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import random
import struct
import zlib
from decimal import Decimal

import pytest
from PIL import Image, ImageCms
from sqlalchemy import func, select

from bot.conversation import Conversation
from bot.privacy import data_requests as privacy
from bot.returns import problem_report
from bot.store.models import AuditEntry, ShopperPhoto, VerifiedOrder
from bot.support import handoff, photos
from tests.bot.test_returns import DAY, build_order, on, outside_holidays
from tests.factories import make_customer, make_order, make_product

NOW = dt.datetime(2025, 12, 10, 15, 0)
ORIENTATION, MAKE, GPS_IFD = 0x0112, 0x010F, 0x8825


# ------------------------------------------------------------------ images made with Pillow


def noise(size=(320, 200), mode="RGB", seed=1) -> Image.Image:
    """Pixels that do not compress away, so a file has a realistic size and truncating it bites."""
    rng = random.Random(seed)
    return Image.frombytes(mode, size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * len(mode))))


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def jpeg_with_metadata(size=(300, 120), orientation=6) -> bytes:
    """A phone photo: EXIF with its GPS position, camera make and orientation, an ICC profile
    and a comment."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "TinselPhone"
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 12.0), 3: "W", 4: (0.0, 7.0, 39.0)}
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encoded(noise(size), "JPEG", exif=exif.tobytes(), icc_profile=icc, comment=b"shot at 221B Baker Street")


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and header claiming `width` x `height`, with a tiny (empty) image
    body: a decompression bomb's shape, a few dozen bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def accept(store, settings, raw: bytes, conversation="web:photos", now=NOW) -> photos.PhotoResult:
    with store.session() as s:
        return photos.accept(s, conversation, "socketio", raw, settings, now)


def stored(store, photo_id) -> ShopperPhoto:
    with store.reading() as s:
        return s.get(ShopperPhoto, photo_id)


def photo_count(store) -> int:
    with store.reading() as s:
        return s.execute(select(func.count(ShopperPhoto.id))).scalar_one()


# ------------------------------------------------------------------ what is kept


def test_a_phone_photo_is_kept_upright_without_gps_or_any_metadata(store, settings):
    result = accept(store, settings, jpeg_with_metadata(size=(300, 120), orientation=6))

    assert result.status == photos.STORED
    photo = stored(store, result.photo_id)
    kept = Image.open(io.BytesIO(photo.image))
    assert kept.format == "JPEG" and kept.mode == "RGB" and photo.content_type == "image/jpeg"
    assert kept.size == (120, 300) == (photo.width, photo.height)  # orientation 6: turned upright
    assert dict(kept.getexif()) == {}
    assert not {"exif", "icc_profile", "comment"} & set(kept.info)
    for trace in (b"Exif", b"TinselPhone", b"Baker Street", b"ICC_PROFILE"):
        assert trace not in photo.image and trace not in photo.thumbnail
    assert photo.sha256 == __import__("hashlib").sha256(photo.image).hexdigest()
    assert photo.channel == "socketio" and photo.received_at == NOW


def test_a_png_with_transparency_is_kept_as_a_jpeg_on_white(store, settings):
    image = Image.new("RGBA", (60, 40), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 30, 40))

    result = accept(store, settings, encoded(image, "PNG"))

    kept = Image.open(io.BytesIO(stored(store, result.photo_id).image))
    assert result.status == photos.STORED and kept.format == "JPEG"
    red, green, blue = kept.getpixel((50, 20))
    assert min(red, green, blue) > 240  # the transparent half is white, not black or red
    assert kept.getpixel((10, 20))[2] > 200


def test_a_webp_is_kept(store, settings):
    result = accept(store, settings, encoded(noise((100, 80)), "WEBP"))

    assert result.status == photos.STORED
    assert Image.open(io.BytesIO(stored(store, result.photo_id).image)).format == "JPEG"


def test_a_large_photo_is_kept_at_most_2048_long_with_a_thumbnail_of_at_most_240(store, settings):
    result = accept(store, settings, encoded(Image.new("RGB", (3000, 1000), (20, 120, 40)), "PNG"))

    photo = stored(store, result.photo_id)
    assert (photo.width, photo.height) == (photos.LONG_SIDE, 683)
    thumbnail = Image.open(io.BytesIO(photo.thumbnail))
    assert thumbnail.format == "JPEG" and max(thumbnail.size) == photos.THUMBNAIL_SIDE == 240


def test_the_same_photo_twice_in_a_conversation_is_kept_once(store, settings):
    raw = jpeg_with_metadata()

    first = accept(store, settings, raw)
    again = accept(store, settings, raw)
    elsewhere = accept(store, settings, raw, conversation="web:someone-else")

    assert (first.status, again.status, elsewhere.status) == (photos.STORED, photos.DUPLICATE, photos.STORED)
    assert again.photo_id == first.photo_id and not again.refused
    assert photo_count(store) == 2


# ------------------------------------------------------------------ what is refused, storing nothing


@pytest.mark.parametrize("name, raw", [
    ("gif", encoded(noise((40, 40)).convert("P"), "GIF")),
    ("bmp", encoded(noise((40, 40)), "BMP")),
    ("text", b"my order 104217 arrived broken"),
    ("html named .jpg", b"<html><script>alert(document.cookie)</script><img src=x></html>"),
    ("svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("nothing", b""),
])
def test_anything_but_jpeg_png_or_webp_is_the_wrong_type(store, settings, name, raw):
    result = accept(store, settings, raw)

    assert result == photos.PhotoResult(photos.WRONG_TYPE) and result.refused
    assert photo_count(store) == 0


def test_an_html_file_with_an_image_header_glued_on_is_never_served_as_it_came(store, settings):
    """A JPEG/HTML polyglot decodes as a JPEG; what is kept is drawn from its pixels only."""
    polyglot = encoded(noise((64, 64)), "JPEG", comment=b"<script>alert(1)</script>")

    result = accept(store, settings, polyglot)

    assert result.status == photos.STORED
    assert b"<script>" not in stored(store, result.photo_id).image


@pytest.mark.parametrize("name, raw", [
    ("truncated jpeg", encoded(noise((400, 300)), "JPEG", quality=95)[:6000]),
    ("truncated png", encoded(noise((200, 200)), "PNG")[:5000]),
    ("jpeg header then garbage", b"\xff\xd8\xff\xe0" + b"\x00garbage" * 200),
    ("webp header then garbage", b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x01" * 64),
])
def test_a_broken_photo_is_corrupt(store, settings, name, raw):
    result = accept(store, settings, raw)

    assert result == photos.PhotoResult(photos.CORRUPT)
    assert photo_count(store) == 0


def test_a_photo_over_the_limit_is_refused_before_it_is_decoded(store, settings, monkeypatch):
    raw = jpeg_with_metadata()
    small_limit = dataclasses.replace(settings, photo_max_bytes=len(raw) - 1)

    def never(*args, **kwargs):
        raise AssertionError("an over-size upload was decoded")

    monkeypatch.setattr(photos.Image, "open", never)
    assert accept(store, small_limit, raw) == photos.PhotoResult(photos.TOO_BIG)
    monkeypatch.undo()
    assert accept(store, dataclasses.replace(settings, photo_max_bytes=len(raw)), raw).status == photos.STORED
    assert photo_count(store) == 1


@pytest.mark.parametrize("width, height", [(8_000, 8_000), (100_000, 100_000)])
def test_a_decompression_bomb_is_refused_from_its_header(store, settings, width, height):
    """8000x8000 is over MAX_PIXELS but under Pillow's own bomb limit; 100000x100000 is over both."""
    bomb = png_header_only(width, height)
    assert len(bomb) < 100 and width * height > photos.MAX_PIXELS

    assert accept(store, settings, bomb) == photos.PhotoResult(photos.TOO_BIG)
    assert photo_count(store) == 0


def test_a_conversation_may_send_only_so_many_photos_an_hour(store, settings):
    for n in range(photos.PHOTOS_PER_HOUR):
        assert accept(store, settings, encoded(noise((40, 40), seed=n), "PNG")).status == photos.STORED

    extra = encoded(noise((40, 40), seed=999), "PNG")
    assert accept(store, settings, extra) == photos.PhotoResult(photos.TOO_MANY)
    assert accept(store, settings, extra, conversation="web:another").status == photos.STORED
    assert accept(store, settings, extra, now=NOW + dt.timedelta(hours=1, minutes=1)).status == photos.STORED


# ------------------------------------------------------------------ reading them back


def test_the_console_gets_thumbnails_as_data_urls_and_the_image_by_id(store, settings):
    first = accept(store, settings, encoded(noise((500, 250), seed=1), "PNG"), now=NOW)
    second = accept(store, settings, encoded(noise((100, 100), seed=2), "PNG"), now=NOW + dt.timedelta(minutes=3))
    accept(store, settings, encoded(noise((100, 100), seed=3), "PNG"), conversation="web:other")

    with store.reading() as s:
        views = photos.for_conversation(s, "web:photos")
        image = photos.image_of(s, first.photo_id)
        missing = photos.image_of(s, 10_000)

    assert [v.id for v in views] == [first.photo_id, second.photo_id]
    assert (views[0].width, views[0].height, views[0].received_at) == (500, 250, NOW)
    prefix = "data:image/jpeg;base64,"
    assert views[0].thumbnail_url.startswith(prefix)
    thumbnail = Image.open(io.BytesIO(base64.b64decode(views[0].thumbnail_url[len(prefix):])))
    assert thumbnail.size == (240, 120)
    with pytest.raises(dataclasses.FrozenInstanceError):
        views[0].width = 1
    assert image == ("image/jpeg", stored(store, first.photo_id).image)
    assert missing is None


def test_photos_are_counted_per_conversation_and_since_a_time(store, settings):
    accept(store, settings, encoded(noise((40, 40), seed=1), "PNG"), now=NOW - dt.timedelta(days=2))
    accept(store, settings, encoded(noise((40, 40), seed=2), "PNG"), now=NOW)

    with store.reading() as s:
        assert photos.count_for_conversation(s, "web:photos") == 2
        assert photos.count_for_conversation(s, "web:photos", since=NOW - dt.timedelta(hours=1)) == 1
        assert photos.evidence_count(s, "web:photos", NOW) == 1
        assert photos.count_for_conversation(s, "web:nobody") == 0


def test_the_bot_acknowledges_only_a_photo_of_this_very_conversation(store, settings):
    mine = accept(store, settings, encoded(noise((40, 40), seed=1), "PNG"), conversation="web:mine")
    theirs = accept(store, settings, encoded(noise((40, 40), seed=2), "PNG"), conversation="web:theirs")

    with store.reading() as s:
        answer = lambda photo_id, reporting=False: photos.acknowledgement(s, "web:mine", photo_id, reporting)  # noqa: E731
        assert answer(mine.photo_id) == photos.RECEIVED
        assert answer(mine.photo_id, reporting=True) == photos.NOTED_AS_EVIDENCE
        for forged in (None, theirs.photo_id, str(mine.photo_id), True, 10_000):
            assert answer(forged) == photos.NOT_RECEIVED
    with store.session() as s:
        handoff.open_ticket(s, Conversation("web:mine", "socketio"), "asked_for_human", "", settings=settings)
    with store.reading() as s:
        assert photos.acknowledgement(s, "web:mine", mine.photo_id, True) == photos.ADDED_TO_TICKET


# ------------------------------------------------------------------ what the shopper is told


def test_every_answer_comes_from_the_domain_with_the_limit_from_settings(settings):
    three_mb = dataclasses.replace(settings, photo_max_bytes=3_000_000)

    assert "under 3 MB" in photos.answer_text(photos.TOO_BIG, three_mb)
    assert f"{photos.PHOTOS_PER_HOUR} an hour" in photos.answer_text(photos.TOO_MANY, settings)
    for status in (photos.STORED, photos.DUPLICATE, *photos.REFUSALS):
        text = photos.answer_text(status, settings)
        assert text and "{" not in text


# ------------------------------------------------------------------ evidence in a damaged-item report


def test_a_photo_sent_before_the_report_is_evidence_on_the_rma_and_the_review_ticket(store, settings, conversation_id):
    placed = outside_holidays(settings)
    day = on(settings, placed + 2 * DAY)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY,
                         lines=(("Crystal Bauble Set", "400.00", 1, False),))
    with store.reading() as s:
        assert problem_report.photo_would_help(s, conversation_id, "damaged", day)
    for seed in (1, 2):
        with store.session() as s:
            photos.accept(s, conversation_id, "telegram", encoded(noise((50, 50), seed=seed), "PNG"), day, day.now())

    with store.session() as s:
        assert not problem_report.photo_would_help(s, conversation_id, "damaged", day)
        outcome = problem_report.report_problem(s, Conversation(conversation_id, "telegram"), number, "damaged",
                                                prefer="refund", settings=day)
        ticket = handoff.open_ticket_for(s, conversation_id)
        created = s.execute(select(AuditEntry.detail).where(AuditEntry.detail.like(f"{outcome.rma}:%"))).scalar_one()

    assert outcome.status == "remedied" and outcome.photos == 2
    assert "2 photos from the shopper as evidence" in created
    assert outcome.refund.status == "pending_review" and ticket.summary.endswith("2 photos from the shopper as evidence")


def test_a_report_without_photos_or_of_a_late_parcel_counts_none(store, settings, conversation_id):
    placed = outside_holidays(settings)
    day = on(settings, placed + 2 * DAY)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY)

    with store.session() as s:
        photos.accept(s, "web:someone-else", "socketio", encoded(noise((50, 50)), "PNG"), day, day.now())
        assert problem_report.photo_would_help(s, conversation_id, "wrong_item", day)
        assert not problem_report.photo_would_help(s, conversation_id, "late", day)
        assert not problem_report.photo_would_help(s, conversation_id, "missing", day)
        outcome = problem_report.report_problem(s, Conversation(conversation_id), number, "damaged", settings=day)
        created = s.execute(select(AuditEntry.detail).where(AuditEntry.detail.like(f"{outcome.rma}:%"))).scalar_one()

    assert outcome.status == "remedied" and outcome.photos == 0
    assert "photo" not in created


def test_a_photo_older_than_the_evidence_window_does_not_count(store, settings, conversation_id):
    day = on(settings, outside_holidays(settings))
    with store.session() as s:
        photos.accept(s, conversation_id, "socketio", encoded(noise((50, 50)), "PNG"), day,
                      day.now() - photos.EVIDENCE_WINDOW - dt.timedelta(minutes=1))
        assert problem_report.photo_evidence(s, conversation_id, "damaged", day) == 0


# ------------------------------------------------------------------ erasure


def test_forgetting_a_shopper_erases_the_photos_of_their_conversations(store, settings):
    with store.session() as s:
        lisa = make_customer(s, name="Lisa Smith", email="lisa.photos@example.com")
        bauble = make_product(s, name="Bauble", price=Decimal("12.00"))
        order = make_order(s, lisa, items=[(bauble, 1)])
        s.add(VerifiedOrder(conversation_id="web:lisa", order_id=order.id, verified_at=settings.now()))
    accept(store, settings, encoded(noise((40, 40), seed=1), "PNG"), conversation="web:lisa")
    accept(store, settings, encoded(noise((40, 40), seed=2), "PNG"), conversation="web:tom")

    with store.session() as s:
        report = privacy.forget_customer(s, "lisa.photos@example.com", "privacy-officer", settings)

    assert report.conversations == 1
    with store.reading() as s:
        left = s.execute(select(ShopperPhoto.conversation_id)).scalars().all()
    assert left == ["web:tom"]
