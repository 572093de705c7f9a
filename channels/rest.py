"""Rasa's REST channel with its conversations kept apart from every other channel's.

Rasa's REST webhook takes the conversation id from the caller (`sender`), so anyone could post
as a Telegram chat id, a Slack user or a web chat session and join that conversation, with its
verified order. Here a REST conversation id is always `rest:<sender>`, which no other channel
produces, and the channel name recorded is always `rest` (Rasa takes `input_channel` from the
body too). The name stays Rasa's, so the URL is still /webhooks/rest/webhook.
"""
from __future__ import annotations

import uuid
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels import rest
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint
from sanic.request import Request

from channels.safe_output import with_safe_links

CONVERSATION_PREFIX = "rest:"


def rest_conversation_id(sender: Optional[Text]) -> Text:
    """`rest:<sender>`; a post without a sender gets a fresh one (Rasa would give it a bare uuid,
    the form of a web chat session id)."""
    return CONVERSATION_PREFIX + (str(sender) if sender not in (None, "") else uuid.uuid4().hex)


class RestInput(rest.RestInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return super().blueprint(with_safe_links(on_new_message))

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        return rest_conversation_id(await super()._extract_sender(req))

    def _extract_input_channel(self, req: Request) -> Text:
        return self.name()
