"""The web chat's photo upload (POST /webhooks/socketio/photo, issue #19), over HTTP against the
socket.io channel's own blueprint served for real (no model needed): a photo from a session of a
begun conversation is kept and passed into Rasa; a wrong type, a broken file, an over-size body
(refused with 413 before it is read), a made-up or malformed session id and a flood are refused
with the sentence the page shows, storing nothing and telling Rasa nothing. The last test runs
the whole stack (trained model): the bot thanks for the photo in the page."""
from __future__ import annotations

import asyncio
import io
import json
import random
import secrets
import socket
import urllib.parse
import uuid

import pytest
from PIL import Image
from sanic import Sanic
from sqlalchemy import func, select

import bot.store.engine
from bot.settings import get_settings, load_settings
from bot.store.models import ShopperPhoto
from bot.support import photos
from bot.web.webchat import PHOTO_UPLOAD_PATH, content_security_policy, photo_config
from bot.web.webchat import outbox
from channels.socketio import ENVELOPE_BYTES, SocketIOInput, metadata_of
from tests.bot.test_photos import png_header_only
from tests.channels.webhooks import post
from tests.console.conftest import ConsoleServer
from tests.factories import add_events
from tests.replies import response_texts

GPS_IFD = 0x8825


def phone_photo(seed: int = 0, size=(400, 300)) -> bytes:
    """A JPEG with a GPS position in its EXIF; each seed a different picture."""
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 12.0)}
    pixels = random.Random(seed).randbytes(size[0] * size[1] * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def multipart(fields: dict[str, str], files: dict[str, tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser's FormData sends it, and its Content-Type."""
    boundary = f"----tinsel{uuid.uuid4().hex}"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    for name, (filename, content_type, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Upload:
    """The channel's blueprint served on a free port, Rasa's on_new_message recorded."""

    def __init__(self, store):
        self.store = store
        self.told_rasa = []
        channel = SocketIOInput(session_persistence=True)

        async def on_new_message(message):
            self.told_rasa.append(message)

        app = Sanic(f"photo_upload_{uuid.uuid4().hex[:8]}")
        app.blueprint(channel.blueprint(on_new_message), url_prefix=f"/webhooks/{channel.name()}")
        self.server = ConsoleServer(app)
        self.url = self.server.url + PHOTO_UPLOAD_PATH

    def begun_session(self) -> str:
        """A session id the server issued, whose page said hello (the widget's /greet)."""
        session_id = secrets.token_hex(16)
        add_events(self.store, f"web:{session_id}", ("user", "/greet"))
        return session_id

    def send(self, session_id: str | None, data: bytes, filename="photo.jpg", content_type="image/jpeg") -> tuple[int, dict]:
        fields = {} if session_id is None else {"session_id": session_id}
        body, form_type = multipart(fields, {"photo": (filename, content_type, data)})
        status, answer = post(self.url, body, {"Content-Type": form_type})
        return status, json.loads(answer) if answer.startswith("{") else {"raw": answer}

    def photos_of(self, session_id: str) -> list[ShopperPhoto]:
        with self.store.reading() as s:
            return list(s.execute(select(ShopperPhoto).where(ShopperPhoto.conversation_id == f"web:{session_id}")).scalars())

    def photo_count(self) -> int:
        with self.store.reading() as s:
            return s.execute(select(func.count(ShopperPhoto.id))).scalar_one()


@pytest.fixture
def upload(store, tracker_table, monkeypatch):
    monkeypatch.setattr(bot.store.engine, "_store", store)
    served = Upload(store)
    yield served
    served.server.stop()


@pytest.fixture
def small_limit(monkeypatch):
    """PHOTO_MAX_BYTES=100000 for the channel, which reads its settings per upload."""
    monkeypatch.setenv("PHOTO_MAX_BYTES", "100000")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def refusal(status) -> str:
    return photos.answer_text(status, get_settings())


# ------------------------------------------------------------------ kept


def test_a_photo_is_kept_without_its_gps_and_passed_into_the_conversation(upload):
    session_id = upload.begun_session()

    status, answer = upload.send(session_id, phone_photo())

    assert status == 200 and answer == {"status": "stored", "message": refusal(photos.STORED)}
    [photo] = upload.photos_of(session_id)
    assert b"Exif" not in photo.image and photo.channel == "socketio"
    [message] = upload.told_rasa
    assert message.text == "/EXTERNAL_photo_received"
    assert message.sender_id == f"web:{session_id}" and message.input_channel == "socketio"
    assert message.metadata == {photos.PHOTO_METADATA_KEY: photo.id, "client": "127.0.0.1"}
    # The bot's answer is queued for the session's page, wherever its socket is.
    asyncio.run(message.output_channel.send_response(message.sender_id, {"text": "Thanks for the photo!"}))
    with upload.store.reading() as s:
        assert outbox.waiting_count(s, f"web:{session_id}") == 1


def test_the_same_photo_again_is_not_kept_twice_nor_told_twice(upload):
    session_id = upload.begun_session()
    upload.send(session_id, phone_photo())

    status, answer = upload.send(session_id, phone_photo())

    assert status == 200 and answer == {"status": "duplicate", "message": refusal(photos.DUPLICATE)}
    assert len(upload.photos_of(session_id)) == 1 and len(upload.told_rasa) == 1


def test_the_page_uploads_to_this_route_and_its_policy_allows_it():
    settings = load_settings({"RASA_URL": "https://chat.example.com/"})
    upload_url = urllib.parse.urlsplit(photo_config(settings)["url"])
    directives = dict(d.split(" ", 1) for d in content_security_policy(settings).split("; "))

    assert (upload_url.scheme, upload_url.netloc, upload_url.path) == ("https", "chat.example.com", PHOTO_UPLOAD_PATH)
    assert "https://chat.example.com" in directives["connect-src"].split()
    assert photo_config(settings)["maxBytes"] == settings.photo_max_bytes


# ------------------------------------------------------------------ refused, nothing kept, Rasa not told


@pytest.mark.parametrize("name, data, filename, content_type, status, http", [
    ("text", b"my parcel arrived crushed", "photo.jpg", "image/jpeg", photos.WRONG_TYPE, 415),
    ("html with an image name", b"<!doctype html><script>fetch('/steal?'+document.cookie)</script>",
     "damage.jpg", "image/jpeg", photos.WRONG_TYPE, 415),
    ("gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04", "photo.gif", "image/gif",
     photos.WRONG_TYPE, 415),
    ("truncated jpeg", None, "photo.jpg", "image/jpeg", photos.CORRUPT, 422),
    ("decompression bomb", png_header_only(100_000, 100_000), "photo.png", "image/png", photos.TOO_BIG, 413),
])
def test_a_file_that_is_not_a_good_photo_is_refused_with_a_sentence(upload, name, data, filename, content_type,
                                                                     status, http):
    session_id = upload.begun_session()
    data = data if data is not None else phone_photo(size=(800, 600))[:3000]

    got, answer = upload.send(session_id, data, filename, content_type)

    assert (got, answer) == (http, {"status": status, "message": refusal(status)})
    assert upload.photo_count() == 0 and upload.told_rasa == []


def test_an_upload_without_a_file_is_the_wrong_type(upload):
    body, form_type = multipart({"session_id": upload.begun_session()}, {})

    status, answer = post(upload.url, body, {"Content-Type": form_type})

    assert status == 415 and json.loads(answer)["status"] == photos.WRONG_TYPE


@pytest.mark.parametrize("session_id", [
    None, "", "123456", "../../etc/passwd", "A" * 32, "g" * 32, secrets.token_hex(15), secrets.token_hex(17),
    "telegram:700001", f"web:{secrets.token_hex(16)}",
])
def test_a_session_id_not_of_the_issued_form_is_refused(upload, session_id):
    status, answer = upload.send(session_id, phone_photo())

    assert status == 403 and answer == {"status": "no_chat", "message": photos.shopper_text("utter_photo_chat_not_started")}
    assert upload.photo_count() == 0 and upload.told_rasa == []


def test_a_made_up_session_id_of_a_conversation_that_never_began_is_refused(upload):
    """The id is the bearer secret; a well-formed guess opens no conversation and stores nothing."""
    upload.begun_session()

    status, _ = upload.send(secrets.token_hex(16), phone_photo())

    assert status == 403 and upload.photo_count() == 0 and upload.told_rasa == []


def test_a_photo_over_the_limit_is_refused(upload, small_limit):
    session_id = upload.begun_session()
    over = b"\xff\xd8\xff\xe0" + secrets.token_bytes(small_limit.photo_max_bytes)  # within the envelope

    status, answer = upload.send(session_id, over)

    assert (status, answer["status"]) == (413, photos.TOO_BIG)
    assert "under 0.1 MB" in answer["message"]
    assert upload.photo_count() == 0 and upload.told_rasa == []


def test_a_body_declared_too_big_is_refused_before_it_is_read(upload):
    """50 MB declared, 1 KB sent: the 413 comes at once, without waiting for the rest."""
    host, port = urllib.parse.urlsplit(upload.server.url).netloc.split(":")
    head = (f"POST {PHOTO_UPLOAD_PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            f"Content-Length: 50000000\r\n\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head + b"\0" * 1024)
        answer = conn.recv(65536).decode(errors="replace")

    assert answer.startswith("HTTP/1.1 413")
    assert upload.photo_count() == 0


def test_a_chunked_body_is_cut_off_at_the_limit(upload, small_limit):
    """No Content-Length to go by: the body is counted as it comes and refused past the limit."""
    host, port = urllib.parse.urlsplit(upload.server.url).netloc.split(":")
    head = (f"POST {PHOTO_UPLOAD_PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n").encode()
    chunk = 32_768
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head)
        for _ in range((small_limit.photo_max_bytes + ENVELOPE_BYTES) // chunk + 2):
            conn.sendall(f"{chunk:x}\r\n".encode() + b"\0" * chunk + b"\r\n")
        answer = conn.recv(65536).decode(errors="replace")

    assert answer.startswith("HTTP/1.1 413")
    assert json.loads(answer.split("\r\n\r\n", 1)[1])["status"] == photos.TOO_BIG


def test_a_flood_of_photos_from_one_chat_is_refused_after_the_hourly_cap(upload):
    session_id = upload.begun_session()
    for seed in range(photos.PHOTOS_PER_HOUR):
        assert upload.send(session_id, phone_photo(seed))[0] == 200

    status, answer = upload.send(session_id, phone_photo(photos.PHOTOS_PER_HOUR))

    assert (status, answer) == (429, {"status": photos.TOO_MANY, "message": refusal(photos.TOO_MANY)})
    assert len(upload.photos_of(session_id)) == photos.PHOTOS_PER_HOUR
    assert len(upload.told_rasa) == photos.PHOTOS_PER_HOUR


def test_a_browser_cannot_name_a_photo_in_its_message_metadata():
    assert metadata_of({"customData": {photos.PHOTO_METADATA_KEY: 7, "language": "en"}}, "customData") == {"language": "en"}


# ------------------------------------------------------------------ the whole stack (trained model)


def test_the_bot_thanks_for_an_uploaded_photo_in_the_page(running_stack):
    from tests.webchat_client import WebChatClient

    async def chat() -> str:
        client = WebChatClient(running_stack.rasa_url)
        try:
            session_id = await client.start(None)
            await client.say("hi", expect="holiday", session_id=session_id)  # both greetings say it
            body, form_type = multipart({"session_id": session_id}, {"photo": ("mug.jpg", "image/jpeg", phone_photo())})
            before = len(client.replies)
            status, _ = await asyncio.to_thread(post, running_stack.rasa_url + PHOTO_UPLOAD_PATH, body,
                                                {"Content-Type": form_type})
            assert status == 200
            deadline = asyncio.get_running_loop().time() + 120
            while response_texts("utter_photo_received")[0] not in client.replies[before:]:
                assert asyncio.get_running_loop().time() < deadline, client.replies
                await asyncio.sleep(0.2)
            return session_id
        finally:
            await client.stop()

    session_id = asyncio.run(chat())
    with running_stack.store.reading() as s:
        assert photos.count_for_conversation(s, f"web:{session_id}") == 1
