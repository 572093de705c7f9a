"""The shoppers' web chat page: one HTML page with the rasa-webchat widget (installed by npm
from package-lock.json, served from node_modules) talking to Rasa's socket.io channel at
RASA_URL. The page holds no conversation logic; the widget keeps the session id and the
messages in the browser's local storage and Rasa (session_persistence) keeps the session, so
a reload shows the same conversation.

Under the chat, "Send a photo" uploads a picture of a damaged or wrong item to the socket.io
channel's PHOTO_UPLOAD_PATH on the Rasa server (channels/socketio.py), naming the widget's
session; the page shows the channel's answer (domain/photos.yml) in a status line.

`python -m bot webchat` serves it on WEBCHAT_PORT; `make run` starts it next to Rasa.
"""
from __future__ import annotations

import html
import json
import sys
import urllib.parse
from pathlib import Path
from string import Template

from sanic import Sanic, response
from sanic.request import Request

from bot.settings import PROJECT_ROOT, Settings, get_settings
from bot.support import photos

WIDGET_BUNDLE = PROJECT_ROOT / "node_modules" / "rasa-webchat" / "lib" / "index.js"
PAGE_TEMPLATE = Path(__file__).with_name("page.html")
CHAT_SCRIPT = Path(__file__).with_name("chat.js")
PHOTO_UPLOAD_PATH = "/webhooks/socketio/photo"  # channels/socketio.py PHOTO_ROUTE under Rasa's channel prefix


class WidgetMissing(RuntimeError):
    pass


def page_html(settings: Settings) -> str:
    """The page with the widget's settings filled in (as JSON with no `<`, so no setting can
    end the script element), and the photo upload's address, limit and sentences."""
    widget = {"socketUrl": settings.rasa_url.rstrip("/"), "title": settings.store_name,
              "photo": photo_config(settings)}
    return Template(PAGE_TEMPLATE.read_text()).substitute(
        store_name=html.escape(settings.store_name),
        widget_config=json.dumps(widget).replace("<", "\\u003c"),
    )


def photo_config(settings: Settings) -> dict:
    """Where chat.js sends a photo, the largest it may be (a larger one is refused before it is
    sent), and what it says meanwhile: the wording is domain/photos.yml's."""
    return {
        "url": settings.rasa_url.rstrip("/") + PHOTO_UPLOAD_PATH,
        "maxBytes": settings.photo_max_bytes,
        "tooBig": photos.answer_text(photos.TOO_BIG, settings),
        "sending": photos.shopper_text("utter_photo_sending"),
        "failed": photos.shopper_text("utter_photo_upload_failed"),
        "notStarted": photos.shopper_text("utter_photo_chat_not_started"),
    }


def content_security_policy(settings: Settings) -> str:
    """Scripts only from this page's own files, so neither an injected script nor a
    `javascript:` link in a message can run; the widget talks to Rasa (HTTP and WebSocket; the
    photo upload is a fetch to the same Rasa origin, so connect-src covers it) and asks Google
    Fonts for its font. Its styles are injected at run time, hence 'unsafe-inline' for styles only."""
    rasa = urllib.parse.urlsplit(settings.rasa_url)
    socket_scheme = "wss" if rasa.scheme == "https" else "ws"
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com",
        "font-src 'self' https://fonts.gstatic.com data:",
        "img-src 'self' data: https:",
        f"connect-src 'self' {rasa.scheme}://{rasa.netloc} {socket_scheme}://{rasa.netloc}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ])


def create_app(settings: Settings, name: str = "tinsel_webchat") -> Sanic:
    if not WIDGET_BUNDLE.is_file():
        raise WidgetMissing(
            f"The web chat widget is not installed ({WIDGET_BUNDLE} is missing). "
            "Run `make widget` (npm ci) first."
        )
    app = Sanic(name)
    page = page_html(settings)
    policy = {"Content-Security-Policy": content_security_policy(settings), "X-Content-Type-Options": "nosniff",
              "Referrer-Policy": "no-referrer"}

    @app.get("/")
    async def chat_page(_: Request):
        return response.html(page, headers=policy)

    @app.get("/chat.js")
    async def chat_script(_: Request):
        return response.text(CHAT_SCRIPT.read_text(), content_type="application/javascript", headers=policy)

    @app.get("/health")
    async def health(_: Request):
        return response.json({"status": "ok", "rasa_url": settings.rasa_url})

    app.static("/rasa-webchat.js", str(WIDGET_BUNDLE), content_type="application/javascript")
    return app


def serve(host: str = "0.0.0.0", port: int | None = None) -> int:
    settings = get_settings()
    try:
        app = create_app(settings)
    except WidgetMissing as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    from bot.privacy.log_masking import mask_logs  # issue #15 (privacy): after Sanic set up its loggers

    mask_logs()
    app.run(host=host, port=port or settings.webchat_port, access_log=False, motd=False)
    return 0
