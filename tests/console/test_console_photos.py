"""A shopper's photo at full size (/photos/<id>): behind the login, the stored JPEG with its own
type and nosniff, 404 for a photo that does not exist."""
from __future__ import annotations

import io
import urllib.error
import urllib.request

from PIL import Image

from bot.support import photos
from tests.console.conftest import Client


def kept_photo(store, settings, conversation: str = "web:photo-console") -> int:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (180, 30, 40)).save(out, "PNG")
    with store.session() as s:
        return photos.accept(s, conversation, "socketio", out.getvalue(), settings, settings.now()).photo_id


def fetch(client: Client, path: str) -> tuple[int, dict, bytes]:
    """GET as the logged-in browser, keeping the bytes (a page's Client decodes text)."""
    request = urllib.request.Request(client.base + path)
    request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in client.cookies.items()))
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def test_a_photo_needs_a_login(store, settings, client):
    photo_id = kept_photo(store, settings)

    page = client.get(f"/photos/{photo_id}")

    assert page.status == 303 and page.location == "/login"
    assert "image" not in page.headers.get("content-type", "")


def test_a_logged_in_agent_gets_the_stored_jpeg_with_its_type(store, settings, accounts, console):
    photo_id = kept_photo(store, settings)
    agent = Client(console.url)
    agent.log_in("dana")

    status, headers, body = fetch(agent, f"/photos/{photo_id}")

    with store.reading() as s:
        assert (headers["content-type"], body) == photos.image_of(s, photo_id)
    assert status == 200 and headers["content-type"] == "image/jpeg"
    assert headers["x-content-type-options"] == "nosniff"
    assert Image.open(io.BytesIO(body)).size == (320, 200)


def test_an_unknown_photo_is_404(store, settings, accounts, console):
    agent = Client(console.url)
    agent.log_in("dana")

    assert fetch(agent, "/photos/424242")[0] == 404
    assert fetch(agent, "/photos/not-a-number")[0] == 404
