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

from channels.identity import addressed_by_platform, under_prefix
from channels.safe_output import safe_output, with_safe_links

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CONVERSATION_PREFIX = "telegram"  # conversations are telegram:<chat id>


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
        blueprint = super().blueprint(under_prefix(with_safe_links(on_new_message), CONVERSATION_PREFIX))

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

        return blueprint


def is_set_webhook(request: Request) -> bool:
    """By the route Sanic matched (its handler's name), else by the path without trailing slashes."""
    if request.route is not None:
        return request.route.name.rsplit(".", 1)[-1] == "set_webhook"
    return request.path.rstrip("/").rsplit("/", 1)[-1] == "set_webhook"
