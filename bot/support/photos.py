"""A shopper's photo of a damaged or wrong item: checked, made harmless, kept with the conversation.

What a shopper uploads is never stored as it came. The size is checked before anything decodes it;
only JPEG, PNG and WebP (by their first bytes, so an HTML page named .jpg is refused) are opened,
and an image whose dimensions would take more memory than a photo needs (a "decompression bomb":
a few KB that unpack to gigapixels) is refused before its pixels load. What is kept is a fresh
JPEG drawn from the decoded pixels, turned upright (EXIF orientation), at most LONG_SIDE pixels
long, with no EXIF (so no GPS position), no ICC profile and no comments, and a thumbnail of it for
the agents' ticket page. The same photo twice in one conversation is kept once, and a
conversation may send at most PHOTOS_PER_HOUR (an upload flood fills no disk).

The shopper-facing wording (thanks, refusals) lives in domain/photos.yml; the channels read it
through `answer_text` and `shopper_text`.
"""
from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import io
import warnings
from dataclasses import dataclass

import yaml
from PIL import Image, ImageOps
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.settings import PROJECT_ROOT, Settings
from bot.store.engine import Store
from bot.store.models import ShopperPhoto
from bot.support import handoff

# What accept() answers; all but STORED and DUPLICATE are refusals, with nothing stored.
STORED, DUPLICATE, TOO_BIG, WRONG_TYPE, CORRUPT, TOO_MANY = (
    "stored", "duplicate", "too_big", "wrong_type", "corrupt", "too_many")
REFUSALS = (TOO_BIG, WRONG_TYPE, CORRUPT, TOO_MANY)
# The message metadata key a channel puts the stored photo's id under (server-side only).
PHOTO_METADATA_KEY = "photo_id"
# How the bot answers a photo passed into the conversation (acknowledgement()).
NOT_RECEIVED, ADDED_TO_TICKET, NOTED_AS_EVIDENCE, RECEIVED = (
    "not_received", "added_to_ticket", "noted_as_evidence", "received")

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")  # Pillow's names; format_of() knows how each begins
MAX_PIXELS = 50_000_000  # a 50-megapixel phone photo; more is a bomb, not a photo
LONG_SIDE = 2048  # what is kept: enough to see a crack or a wrong colour
THUMBNAIL_SIDE = 240  # the ticket page's thumbnail
STORED_QUALITY, THUMBNAIL_QUALITY = 85, 75
STORED_TYPE = "image/jpeg"
PHOTOS_PER_HOUR = 10  # per conversation: a damaged order needs a few, a flood is refused
# A photo this recent counts as evidence for a damaged or wrong item the conversation reports.
EVIDENCE_WINDOW = dt.timedelta(hours=24)

DOMAIN_FILE = PROJECT_ROOT / "domain" / "photos.yml"
# What the channel itself tells the shopper about their upload (the bot answers a kept one too).
ANSWER_RESPONSES = {
    STORED: "utter_photo_sent",
    DUPLICATE: "utter_photo_already_received",
    TOO_BIG: "utter_photo_too_big",
    WRONG_TYPE: "utter_photo_wrong_type",
    CORRUPT: "utter_photo_corrupt",
    TOO_MANY: "utter_photo_too_many",
}


@dataclass(frozen=True)
class PhotoResult:
    status: str  # one of STORED, DUPLICATE or REFUSALS
    photo_id: int | None = None  # the stored photo (also for DUPLICATE: the one kept before)

    @property
    def refused(self) -> bool:
        return self.status in REFUSALS


@dataclass(frozen=True)
class PhotoView:
    """One photo as the console's ticket page shows it."""

    id: int
    received_at: dt.datetime
    width: int
    height: int
    thumbnail_url: str  # data:image/jpeg;base64,...


class Refused(Exception):
    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class CleanPhoto:
    image: bytes
    thumbnail: bytes
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.image).hexdigest()


def accept(session: Session, conversation_id: str, channel: str, raw_bytes: bytes, settings: Settings,
           now: dt.datetime) -> PhotoResult:
    """Stores the photo the shopper sent, re-encoded, or says why not (nothing stored then).
    Writes: call it in store.session()."""
    if len(raw_bytes) > settings.photo_max_bytes:
        return PhotoResult(TOO_BIG)
    if count_for_conversation(session, conversation_id, since=now - dt.timedelta(hours=1)) >= PHOTOS_PER_HOUR:
        return PhotoResult(TOO_MANY)
    try:
        clean = cleaned(raw_bytes)
    except Refused as refusal:
        return PhotoResult(refusal.status)
    earlier = _photo_with_hash(session, conversation_id, clean.sha256)
    if earlier is not None:
        return PhotoResult(DUPLICATE, earlier.id)
    return _store(session, conversation_id, channel, clean, now)


def keep(store: Store, conversation_id: str, channel: str, raw_bytes: bytes, settings: Settings) -> PhotoResult:
    """accept() in a unit of work of its own, at the store's time: what a channel calls."""
    with store.session() as s:
        return accept(s, conversation_id, channel, raw_bytes, settings, settings.now())


def cleaned(raw_bytes: bytes) -> CleanPhoto:
    """The photo as it is kept: a fresh upright JPEG of its pixels and its thumbnail; Refused
    (WRONG_TYPE, TOO_BIG or CORRUPT) when it is not a photo that can be kept."""
    if format_of(raw_bytes) is None:
        raise Refused(WRONG_TYPE)
    pixels = _decoded(raw_bytes)
    pixels.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    small = pixels.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return CleanPhoto(_jpeg(pixels, STORED_QUALITY), _jpeg(small, THUMBNAIL_QUALITY), *pixels.size)


def format_of(raw_bytes: bytes) -> str | None:
    """JPEG, PNG or WEBP by how the file begins, whatever it is called; None for anything else."""
    if raw_bytes.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if raw_bytes.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if raw_bytes[:4] == b"RIFF" and raw_bytes[8:12] == b"WEBP":
        return "WEBP"
    return None


def _decoded(raw_bytes: bytes) -> Image.Image:
    """The image's pixels, turned as its EXIF orientation says, in a new RGB image; a bomb is
    refused from its header, before its pixels load."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw_bytes), formats=ACCEPTED_FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise Refused(TOO_BIG)
            image.load()
            return _on_white(ImageOps.exif_transpose(image))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused(TOO_BIG) from None
    except (OSError, SyntaxError, ValueError, EOFError, Image.UnidentifiedImageError):
        raise Refused(CORRUPT) from None


def _on_white(image: Image.Image) -> Image.Image:
    """A new RGB image of the pixels (transparency on white), carrying none of the file's
    metadata: Pillow would otherwise write its comment or ICC profile back out."""
    rgba = image.convert("RGBA")
    clean = Image.new("RGB", rgba.size, (255, 255, 255))
    clean.paste(rgba, mask=rgba.getchannel("A"))
    return clean


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _photo_with_hash(session: Session, conversation_id: str, sha256: str) -> ShopperPhoto | None:
    return session.execute(
        select(ShopperPhoto).where(ShopperPhoto.conversation_id == conversation_id, ShopperPhoto.sha256 == sha256)
    ).scalar_one_or_none()


def _store(session: Session, conversation_id: str, channel: str, clean: CleanPhoto, now: dt.datetime) -> PhotoResult:
    """Inserts the photo; if the same one raced in from another request, that one is kept."""
    photo = ShopperPhoto(
        conversation_id=conversation_id, channel=channel, content_type=STORED_TYPE, image=clean.image,
        thumbnail=clean.thumbnail, width=clean.width, height=clean.height, sha256=clean.sha256, received_at=now,
    )
    try:
        with session.begin_nested():
            session.add(photo)
            session.flush()
    except IntegrityError:
        earlier = _photo_with_hash(session, conversation_id, clean.sha256)
        if earlier is None:
            raise
        return PhotoResult(DUPLICATE, earlier.id)
    return PhotoResult(STORED, photo.id)


def for_conversation(session: Session, conversation_id: str) -> list[PhotoView]:
    """The conversation's photos, oldest first, with their thumbnails inline for the ticket page."""
    rows = session.execute(
        select(ShopperPhoto.id, ShopperPhoto.received_at, ShopperPhoto.width, ShopperPhoto.height,
               ShopperPhoto.thumbnail)
        .where(ShopperPhoto.conversation_id == conversation_id)
        .order_by(ShopperPhoto.received_at, ShopperPhoto.id)
    ).all()
    return [PhotoView(id, at, width, height, data_url(thumbnail)) for id, at, width, height, thumbnail in rows]


def data_url(jpeg: bytes) -> str:
    return f"data:{STORED_TYPE};base64,{base64.b64encode(jpeg).decode('ascii')}"


def image_of(session: Session, photo_id: int) -> tuple[str, bytes] | None:
    """(content type, bytes) of the kept photo, for the console; None if there is no such photo."""
    row = session.execute(
        select(ShopperPhoto.content_type, ShopperPhoto.image).where(ShopperPhoto.id == photo_id)
    ).one_or_none()
    return (row.content_type, row.image) if row is not None else None


def photo_in_conversation(session: Session, conversation_id: str, photo_id: object) -> bool:
    """Whether `photo_id` (as a channel passed it on) names a photo of this very conversation."""
    if not isinstance(photo_id, int) or isinstance(photo_id, bool):
        return False
    found = session.execute(
        select(ShopperPhoto.id).where(ShopperPhoto.id == photo_id, ShopperPhoto.conversation_id == conversation_id)
    ).first()
    return found is not None


def acknowledgement(session: Session, conversation_id: str, photo_id: object, reporting_problem: bool) -> str:
    """How the bot answers a photo the channel says it stored: only a photo of this conversation
    counts (a shopper typing the intent has none); a person on the ticket, or the problem being
    reported, will see it."""
    if not photo_in_conversation(session, conversation_id, photo_id):
        return NOT_RECEIVED
    if handoff.open_ticket_for(session, conversation_id) is not None:
        return ADDED_TO_TICKET
    return NOTED_AS_EVIDENCE if reporting_problem else RECEIVED


def count_for_conversation(session: Session, conversation_id: str, since: dt.datetime | None = None) -> int:
    query = select(func.count(ShopperPhoto.id)).where(ShopperPhoto.conversation_id == conversation_id)
    if since is not None:
        query = query.where(ShopperPhoto.received_at >= since)
    return session.execute(query).scalar_one()


def evidence_count(session: Session, conversation_id: str, now: dt.datetime) -> int:
    """The photos that count as evidence for a problem this conversation reports now: those it
    sent within EVIDENCE_WINDOW, before or during the report."""
    return count_for_conversation(session, conversation_id, since=now - EVIDENCE_WINDOW)


def evidence_note(count: int) -> str:
    """For the agent (an audit entry, a ticket's summary), not the shopper."""
    return f"{count} photo{'' if count == 1 else 's'} from the shopper as evidence"


def note_on_open_ticket(session: Session, conversation_id: str, count: int) -> None:
    """The conversation's open ticket says how many photos back the report (its page shows them)."""
    ticket = handoff.open_ticket_for(session, conversation_id)
    note = evidence_note(count)
    if ticket is not None and note not in ticket.summary:
        ticket.summary = f"{ticket.summary}\n{note}".strip()


def shopper_text(response: str, **values: object) -> str:
    """A response of domain/photos.yml with its placeholders filled, for the channels, which
    answer an upload themselves (no action runs for a refused photo)."""
    return _domain_responses()[response][0]["text"].format(**values)


def answer_text(status: str, settings: Settings) -> str:
    """What the channel tells the shopper about their photo: sent, sent before, or why it was refused."""
    return shopper_text(ANSWER_RESPONSES[status], max_mb=f"{settings.photo_max_bytes / 1_000_000:g}",
                        per_hour=PHOTOS_PER_HOUR)


@functools.lru_cache(maxsize=1)
def _domain_responses() -> dict:
    return yaml.safe_load(DOMAIN_FILE.read_text())["responses"]
