"""Telegram photos (issue #19), over HTTP against the Telegram channel's own blueprint served for
real, its Bot API a local stand-in (no model needed): the largest size of a photo within the
limit is fetched (getFile, then the file URL) and kept, its caption and /EXTERNAL_photo_received
go into the chat's conversation; a photo too big, not an image or broken gets the refusal in the
chat and nothing is kept. The last test runs the whole stack (trained model)."""
from __future__ import annotations

import io
import itertools
import json
import random
import time
import uuid

import pytest
from PIL import Image
from sanic import Sanic
from sqlalchemy import func, select

import bot.store.engine
from bot.settings import get_settings
from bot.store.models import ShopperPhoto
from bot.support import photos
from channels.telegram import TelegramInput
from tests.channels.platform_standin import PlatformStandIn
from tests.channels.webhooks import post
from tests.console.conftest import ConsoleServer
from tests.replies import response_texts

TOKEN = "123456789:tinsel-photo-token"
BOT_NAME = "tinsel_photo_bot"
SECRET = "photo-secret-0123456789abcdef"
CHAT_IDS = itertools.count(880001)


def jpeg(seed: int = 0, size=(320, 240)) -> bytes:
    pixels = random.Random(seed).randbytes(size[0] * size[1] * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(out, "JPEG")
    return out.getvalue()


def update(chat_id: int, **message) -> dict:
    return {"update_id": chat_id, "message": {
        "message_id": 1, "date": int(time.time()), "chat": {"id": chat_id, "type": "private", "first_name": "Mia"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Mia"}, **message}}


def size(file_id: str, width: int, file_size: int) -> dict:
    return {"file_id": file_id, "file_unique_id": file_id, "width": width, "height": width * 3 // 4,
            "file_size": file_size}


class TelegramPhotos:
    """The Telegram channel's blueprint on a free port, Rasa's on_new_message recorded."""

    def __init__(self):
        self.platform = PlatformStandIn(telegram_bot_name=BOT_NAME)
        self.told_rasa = []
        channel = TelegramInput(TOKEN, BOT_NAME, "https://chat.tinsel.example/webhooks/telegram/webhook",
                                secret_token=SECRET, api_url=self.platform.telegram_api_url)

        async def on_new_message(message):
            self.told_rasa.append(message)

        app = Sanic(f"telegram_photos_{uuid.uuid4().hex[:8]}")
        app.blueprint(channel.blueprint(on_new_message), url_prefix=f"/webhooks/{channel.name()}")
        self.server = ConsoleServer(app)

    def send(self, body: dict, secret: str | None = SECRET) -> int:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return post(f"{self.server.url}/webhooks/telegram/webhook", json.dumps(body).encode(), headers)[0]

    def told(self) -> list[tuple[str, str, dict | None]]:
        return [(m.text, m.sender_id, m.metadata) for m in self.told_rasa]

    def stop(self):
        self.server.stop()
        self.platform.stop()


@pytest.fixture
def telegram(store, monkeypatch):
    monkeypatch.setattr(bot.store.engine, "_store", store)
    served = TelegramPhotos()
    yield served
    served.stop()


def kept(store, chat_id) -> list[ShopperPhoto]:
    with store.reading() as s:
        return list(s.execute(select(ShopperPhoto).where(ShopperPhoto.conversation_id == f"telegram:{chat_id}")).scalars())


def photo_count(store) -> int:
    with store.reading() as s:
        return s.execute(select(func.count(ShopperPhoto.id))).scalar_one()


def refusal(status) -> str:
    return photos.answer_text(status, get_settings())


def test_the_largest_size_within_the_limit_is_kept_and_passed_on_after_the_caption(store, telegram):
    chat_id = next(CHAT_IDS)
    limit = get_settings().photo_max_bytes
    telegram.platform.add_file("small", jpeg(1, (90, 68)))
    telegram.platform.add_file("large", jpeg(2, (320, 240)))
    sizes = [size("small", 90, 2_000), size("large", 320, 30_000), size("huge", 4000, limit + 1)]

    status = telegram.send(update(chat_id, photo=sizes, caption="my snow globe arrived cracked"))

    assert status == 200
    assert [c.params["file_id"] for c in telegram.platform.calls_to("telegram", "getFile")] == ["large"]
    [photo] = kept(store, chat_id)
    assert (photo.width, photo.height, photo.channel) == (320, 240, "telegram")
    assert telegram.told() == [
        ("my snow globe arrived cracked", f"telegram:{chat_id}", None),
        ("/EXTERNAL_photo_received", f"telegram:{chat_id}", {photos.PHOTO_METADATA_KEY: photo.id}),
    ]
    assert telegram.platform.messages_to(chat_id) == []  # the bot (Rasa) thanks; the channel says nothing


def test_an_image_sent_as_a_document_is_kept(store, telegram):
    chat_id = next(CHAT_IDS)
    telegram.platform.add_file("doc", jpeg(3))

    telegram.send(update(chat_id, document={"file_id": "doc", "file_unique_id": "doc", "mime_type": "image/jpeg",
                                            "file_name": "IMG_0042.JPG", "file_size": 20_000}))

    assert len(kept(store, chat_id)) == 1
    assert [t for t, _, _ in telegram.told()] == ["/EXTERNAL_photo_received"]


def test_the_same_photo_twice_is_kept_once_and_the_chat_is_told(store, telegram):
    chat_id = next(CHAT_IDS)
    telegram.platform.add_file("again", jpeg(4))
    telegram.send(update(chat_id, photo=[size("again", 320, 20_000)]))

    telegram.send(update(chat_id, photo=[size("again", 320, 20_000)]))

    assert len(kept(store, chat_id)) == 1 and len(telegram.told()) == 1
    assert telegram.platform.messages_to(chat_id) == [refusal(photos.DUPLICATE)]


@pytest.mark.parametrize("what, message, status", [
    ("every size over the limit", {"photo": [size("big", 4000, 10**9)]}, photos.TOO_BIG),
    ("a pdf", {"document": {"file_id": "pdf", "file_unique_id": "pdf", "mime_type": "application/pdf",
                            "file_size": 1000}}, photos.WRONG_TYPE),
    ("an html page named as a photo", {"document": {"file_id": "page", "file_unique_id": "page",
                                                    "mime_type": "image/jpeg", "file_size": 100}}, photos.WRONG_TYPE),
    ("a truncated jpeg", {"photo": [size("broken", 320, 3000)]}, photos.CORRUPT),
])
def test_a_refused_photo_gets_the_refusal_and_nothing_is_kept(store, telegram, what, message, status):
    chat_id = next(CHAT_IDS)
    telegram.platform.add_file("page", b"<html><script>alert(1)</script></html>")
    telegram.platform.add_file("broken", jpeg(5, (640, 480))[:3000])

    assert telegram.send(update(chat_id, caption="look", **message)) == 200

    assert telegram.platform.messages_to(chat_id) == [refusal(status)]
    assert photo_count(store) == 0
    assert telegram.told() == [("look", f"telegram:{chat_id}", None)]  # the caption still reaches Rasa
    if status == photos.TOO_BIG:
        assert telegram.platform.calls_to("telegram", "getFile") == []


@pytest.fixture
def limit_of_50_kb(monkeypatch):
    """PHOTO_MAX_BYTES=50000 for the channel, which reads its settings per photo; the run's own after."""
    monkeypatch.setenv("PHOTO_MAX_BYTES", "50000")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_file_larger_than_telegram_said_is_not_read_past_the_limit(store, telegram, limit_of_50_kb, monkeypatch):
    chat_id = next(CHAT_IDS)
    telegram.platform.add_file("liar", jpeg(6, (800, 600)), reported_size=1_000)  # really ~1.4 MB

    def never(*args):
        raise AssertionError("the whole file was downloaded and handed on")

    monkeypatch.setattr(photos, "keep", never)

    telegram.send(update(chat_id, photo=[size("liar", 800, 1_000)]))

    assert telegram.platform.messages_to(chat_id) == [refusal(photos.TOO_BIG)]
    assert photo_count(store) == 0 and telegram.told() == []


def test_a_file_telegram_cannot_hand_over_is_said_not_to_have_got_through(store, telegram):
    chat_id = next(CHAT_IDS)

    telegram.send(update(chat_id, photo=[size("gone", 320, 20_000)]))

    assert telegram.platform.messages_to(chat_id) == [photos.shopper_text("utter_photo_upload_failed")]
    assert photo_count(store) == 0 and telegram.told() == []


def test_a_photo_update_without_the_secret_is_refused_before_anything_is_fetched(store, telegram):
    chat_id = next(CHAT_IDS)
    telegram.platform.add_file("sneaky", jpeg(7))

    assert telegram.send(update(chat_id, photo=[size("sneaky", 320, 20_000)]), secret="wrong") == 403

    assert telegram.platform.calls_to("telegram", "getFile") == [] and photo_count(store) == 0
    assert telegram.told() == []


def test_a_text_message_still_goes_to_rasa_as_before(store, telegram):
    chat_id = next(CHAT_IDS)

    assert telegram.send(update(chat_id, text="where is my order?")) == 200

    assert telegram.told() == [("where is my order?", f"telegram:{chat_id}", None)]


# ------------------------------------------------------------------ the whole stack (trained model)


def test_the_bot_thanks_for_a_telegram_photo(channel_stack):
    chat_id = next(CHAT_IDS)
    channel_stack.platforms.add_file("stack-photo", jpeg(8))
    body = json.dumps(update(chat_id, photo=[size("stack-photo", 320, 20_000)])).encode()

    status, _ = post(f"{channel_stack.rasa.url}/webhooks/telegram/webhook", body,
                     {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": channel_stack.telegram_secret})

    assert status == 200
    [reply] = channel_stack.platforms.wait_for("telegram", "sendMessage", chat_id=chat_id)
    assert reply.params["text"] == response_texts("utter_photo_received")[0]
    with channel_stack.store.reading() as s:
        assert photos.count_for_conversation(s, f"telegram:{chat_id}") == 1
