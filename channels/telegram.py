"""Rasa's Telegram connector with a configurable Bot API server (`api_url`: a self-hosted
telegram-bot-api, or a local stand-in in tests) and webhook authentication.

Rasa 3.6 accepts any POST to /webhooks/telegram/webhook (it only compares the bot's own
username, which it fetches itself). Here the webhook is registered with a `secret_token`,
which Telegram sends back in X-Telegram-Bot-Api-Secret-Token on every update; a request
without the right one is refused before it reaches the assistant. Rasa's /set_webhook route
registers with the secret too (registering without it would switch the check off at Telegram).

The webhook is registered once at start-up, not in get_output_channel as Rasa does: Rasa also
calls get_output_channel inside the running server (for /conversations/<id>/execute with
output_channel=latest), where its asyncio.run would fail.

Conversations are `telegram:<chat id>` (channels/identity.py); replies go to the chat id.

A photo message (Rasa 3.6 ignores one), or an image sent as a document, is fetched here (getFile,
then the Bot API's file URL, never more than PHOTO_MAX_BYTES read) and kept by
bot/support/photos.py; then `/EXTERNAL_photo_received`, with the photo's id in the metadata,
goes into the chat's conversation, after the caption, which reaches Rasa as a normal message. A
refused photo (too big, not JPEG/PNG/WebP, broken) gets the refusal from domain/photos.yml.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from aiogram import Bot
from aiogram.bot.api import Methods, TelegramAPIServer
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels import telegram
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import InvalidConfigException, RasaException
from sanic import Blueprint, response
from sanic.request import Request

from bot.rasa_link.rasa_api import PHOTO_RECEIVED
from bot.settings import Settings, get_settings
from bot.store.engine import get_store
from bot.support import photos
from channels.identity import addressed_by_platform, conversation_id, under_prefix
from channels.safe_output import safe_output, with_safe_links

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CONVERSATION_PREFIX = "telegram"  # conversations are telegram:<chat id>
DOWNLOAD_CHUNK_BYTES = 65_536


class TelegramOutput(telegram.TelegramOutput):
    def __init__(self, access_token: Optional[Text], api_url: Text = DEFAULT_API_URL) -> None:
        # Rasa's __init__ passes only the token; Bot takes the API server.
        Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(api_url))


class TelegramInput(telegram.TelegramInput):
    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(
            credentials.get("access_token"),
            credentials.get("verify"),
            credentials.get("webhook_url"),
            secret_token=credentials.get("secret_token"),
            api_url=credentials.get("api_url") or DEFAULT_API_URL,
        )

    def __init__(self, access_token: Optional[Text], verify: Optional[Text], webhook_url: Optional[Text],
                 debug_mode: bool = True, *, secret_token: Optional[Text] = None,
                 api_url: Text = DEFAULT_API_URL) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode)
        if not secret_token:
            raise InvalidConfigException(
                "The Telegram channel needs a `secret_token`: without it anyone could post "
                "updates to /webhooks/telegram/webhook (python -m bot rasa-credentials sets it)."
            )
        self.secret_token = secret_token
        self.api_url = api_url

    def get_output_channel(self) -> OutputChannel:
        return safe_output(addressed_by_platform(TelegramOutput(self.access_token, self.api_url), CONVERSATION_PREFIX))

    async def register_webhook(self) -> None:
        """setWebhook with the secret token (aiogram 2.15 predates the parameter)."""
        bot = self.get_output_channel()
        try:
            await bot.request(Methods.SET_WEBHOOK, {"url": self.webhook_url, "secret_token": self.secret_token})
        finally:
            await bot.close()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        try:
            asyncio.run(self.register_webhook())
        except TelegramAPIError as error:
            raise RasaException(f"Failed to set the Telegram webhook: {error}") from error
        handle = under_prefix(with_safe_links(on_new_message), CONVERSATION_PREFIX)
        blueprint = super().blueprint(handle)
        photo_bot = TelegramOutput(self.access_token, self.api_url)  # getFile and downloads
        replies = self.get_output_channel()

        @blueprint.middleware("request")
        async def authenticate(request: Request):
            """Runs for every route of this blueprint. Only set_webhook is open (it registers
            with the secret); the rest, whatever the spelling of its path (/webhook/ is routed
            to the same handler), needs the secret."""
            if is_set_webhook(request):
                await self.register_webhook()
                return response.text("Webhook setup successful")
            sent = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(sent.encode(), self.secret_token.encode()):
                logger.warning("Refused a Telegram webhook request without the right secret token.")
                return response.text("wrong or missing secret token", status=HTTPStatus.FORBIDDEN)
            return None

        @blueprint.middleware("request")
        async def take_photos(request: Request):
            """Runs after `authenticate`: an update with a photo or a document is answered here."""
            message = sent_file_message(request)
            if message is None:
                return None
            await self.take_photo(message, photo_bot, replies, handle, self.get_metadata(request))
            return response.text("success")

        return blueprint

    async def take_photo(self, message: Dict[Text, Any], photo_bot: TelegramOutput, replies: OutputChannel,
                         on_new_message: Callable[[UserMessage], Awaitable[Any]], metadata: Optional[Dict]) -> None:
        """Keeps the photo (or tells the chat why not), then passes the caption and the photo on."""
        settings = get_settings()
        chat_id = message["chat"]["id"]
        conversation = conversation_id(CONVERSATION_PREFIX, chat_id)
        status, photo_id = await self.fetch_and_keep(message, photo_bot, conversation, settings)
        if status != photos.STORED:  # the bot thanks for a kept one
            await replies.send_response(conversation, {"text": photo_refusal(status, settings)})
        said = [message.get("caption")] if message.get("caption") else []
        said += [PHOTO_RECEIVED] if status == photos.STORED else []
        for text in said:
            about = {photos.PHOTO_METADATA_KEY: photo_id} if text == PHOTO_RECEIVED else metadata
            try:
                await on_new_message(UserMessage(text, replies, chat_id, input_channel=self.name(), metadata=about))
            except Exception:  # noqa: BLE001 - as Rasa's handler: answered 200, so Telegram does not send it again
                logger.exception("Could not handle a Telegram photo message.")

    async def fetch_and_keep(self, message: Dict[Text, Any], photo_bot: TelegramOutput, conversation: Text,
                             settings: Settings) -> tuple[Text, Optional[int]]:
        """(status, photo id): the file's status as bot/support/photos.py decided, or why it was not fetched."""
        file_id, refusal = chosen_file(message, settings.photo_max_bytes)
        if refusal is not None:
            return refusal, None
        try:
            raw = await download(photo_bot, file_id, settings.photo_max_bytes)
        except Exception:  # noqa: BLE001 - TelegramAPIError, aiohttp's, or an odd answer: the chat is told, not a 500
            logger.exception("Could not fetch a photo from Telegram.")
            return NOT_FETCHED, None
        if raw is None:
            return photos.TOO_BIG, None
        result = await asyncio.to_thread(photos.keep, get_store(), conversation, self.name(), raw, settings)
        return result.status, result.photo_id


NOT_FETCHED = "not_fetched"  # Telegram did not hand the file over


def sent_file_message(request: Request) -> Optional[Dict[Text, Any]]:
    """The message of a webhook update that carries a photo or a document, else None (Rasa's
    handler takes it)."""
    if request.method != "POST" or is_set_webhook(request):
        return None
    try:
        update = request.json
    except Exception:  # noqa: BLE001 - not JSON: Rasa's handler answers it as before
        return None
    message = update.get("message") if isinstance(update, dict) else None
    if not isinstance(message, dict) or not isinstance(message.get("chat"), dict):
        return None
    return message if message.get("photo") or message.get("document") else None


def chosen_file(message: Dict[Text, Any], max_bytes: int) -> tuple[Optional[Text], Optional[Text]]:
    """(file id, None): the largest size of the photo within `max_bytes`, or the image document;
    (None, refusal): TOO_BIG when no size fits, WRONG_TYPE for a document that is no image."""
    document = message.get("document")
    if isinstance(document, dict):
        if not str(document.get("mime_type", "")).startswith("image/"):
            return None, photos.WRONG_TYPE
        candidates = [document]
    else:
        candidates = [size for size in message.get("photo") or [] if isinstance(size, dict)]
    fitting = [c for c in candidates if c.get("file_id") and int(c.get("file_size") or 0) <= max_bytes]
    if not fitting:
        return None, photos.TOO_BIG
    return max(fitting, key=lambda c: int(c.get("width") or 0) * int(c.get("height") or 0))["file_id"], None


async def download(bot: TelegramOutput, file_id: Text, max_bytes: int) -> Optional[bytes]:
    """The file's bytes, or None once it is (or says it is) longer than `max_bytes`."""
    found = await bot.get_file(file_id)
    if (found.file_size or 0) > max_bytes:
        return None
    data = bytearray()
    async with bot.session.get(bot.get_file_url(found.file_path)) as reply:
        reply.raise_for_status()
        async for chunk in reply.content.iter_chunked(DOWNLOAD_CHUNK_BYTES):
            data += chunk
            if len(data) > max_bytes:
                return None
    return bytes(data)


def photo_refusal(status: Text, settings: Settings) -> Text:
    if status == NOT_FETCHED:
        return photos.shopper_text("utter_photo_upload_failed")
    return photos.answer_text(status, settings)


def is_set_webhook(request: Request) -> bool:
    """By the route Sanic matched (its handler's name), else by the path without trailing slashes."""
    if request.route is not None:
        return request.route.name.rsplit(".", 1)[-1] == "set_webhook"
    return request.path.rstrip("/").rsplit("/", 1)[-1] == "set_webhook"
