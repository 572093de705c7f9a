"""Rasa's REST channel with its conversations kept apart from every other channel's.

Rasa's REST webhook takes the conversation id from the caller (`sender`), so anyone could post
as a Telegram chat id, a Slack user or a web chat session and join that conversation, with its
verified order. Here a REST conversation id is always `rest:<sender>`, which no other channel
produces, and the channel name recorded is always `rest` (Rasa takes `input_channel` from the
body too). The name stays Rasa's, so the URL is still /webhooks/rest/webhook.
"""
from __future__ import annotations

import hmac
import uuid
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels import rest
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.exceptions import InvalidConfigException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import get_settings

from channels.identity import client_address, conversation_id, with_client
from channels.safe_output import with_safe_links

CONVERSATION_PREFIX = "rest"


def presented_token(request: Request) -> Text:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[len("bearer "):].strip()
    return request.args.get("token", "")


def is_api_token(presented: Text, expected: Optional[Text]) -> bool:
    return bool(expected) and hmac.compare_digest(presented.encode(), expected.encode())


def rest_conversation_id(sender: Optional[Text]) -> Text:
    """`rest:<sender>`; a post without a sender gets a fresh one (Rasa would give it a bare uuid,
    the form of a web chat session id)."""
    return conversation_id(CONVERSATION_PREFIX, sender if sender not in (None, "") else uuid.uuid4().hex)


class RestInput(rest.RestInput):
    """REST_CHANNEL=token (`require_api_token` in the credentials) asks every caller for
    TINSEL_API_TOKEN, as `Authorization: Bearer <token>` or `?token=`, as Rasa's API does."""

    def __init__(self, api_token: Optional[Text] = None) -> None:
        self.api_token = api_token

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        if not (credentials or {}).get("require_api_token"):
            return cls()
        token = get_settings().api_token
        if not token:
            raise InvalidConfigException("REST_CHANNEL=token needs TINSEL_API_TOKEN in .env "
                                         "(python -m bot secrets writes one).")
        return cls(token)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(with_safe_links(on_new_message))
        if self.api_token:
            blueprint.middleware("request")(self.authenticate)
        return blueprint

    async def authenticate(self, request: Request) -> Optional[HTTPResponse]:
        if request.path.rstrip("/").endswith("/webhooks/rest"):  # the health check stays open
            return None
        if is_api_token(presented_token(request), self.api_token):
            return None
        return response.json({"error": "the REST channel needs the API token"}, status=HTTPStatus.UNAUTHORIZED)

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        return rest_conversation_id(await super()._extract_sender(req))

    def _extract_input_channel(self, req: Request) -> Text:
        return self.name()

    def get_metadata(self, request: Request) -> Dict[Text, Any]:
        """Only what the server knows: the caller's address, for the order-guessing throttle."""
        return with_client(None, client_address(request))
