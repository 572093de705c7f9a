"""Who a message is from, as the channel itself knows it, never as the message says.

A conversation id carries its channel (`telegram:<chat>`, `slack:<team>:<user>`, `web:<session>`,
`rest:<sender>`), so no channel can speak in another channel's conversation, whatever id it
sends. The platforms only know their own ids, so replies leave through `PlatformRecipients`,
which hands the channel the part after the prefix.

The client (an address) goes into the message metadata server-side, for the order-guessing
throttle (bot/orders/verification_throttle.py decides which addresses count).
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic.request import Request

from channels.safe_output import WrappedOutput

CLIENT_METADATA_KEY = "client"


def conversation_id(prefix: Text, platform_id: Any) -> Text:
    return f"{prefix}:{platform_id}"


def platform_id(prefix: Text, conversation: Text) -> Text:
    """The platform's own id inside `conversation`: the chat, the session, the Slack user."""
    own = conversation[len(prefix) + 1:] if conversation.startswith(prefix + ":") else conversation
    return own.rsplit(":", 1)[-1] if prefix == "slack" else own


class PlatformRecipients(WrappedOutput):
    """A channel's output addressed by the platform's own id."""

    def __init__(self, channel: OutputChannel, prefix: Text) -> None:
        super().__init__(channel)
        self.prefix = prefix

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        await self.channel.send_response(platform_id(self.prefix, recipient_id), message)


def addressed_by_platform(channel: Optional[OutputChannel], prefix: Text) -> Optional[OutputChannel]:
    if channel is None or isinstance(channel, PlatformRecipients):
        return channel
    return PlatformRecipients(channel, prefix)


def under_prefix(on_new_message: Callable[[UserMessage], Awaitable[Any]],
                 prefix: Text) -> Callable[[UserMessage], Awaitable[Any]]:
    """The handler a channel's blueprint gets: its messages live in `<prefix>:<platform id>`
    conversations (the channel's get_output_channel addresses replies by the platform id)."""

    async def handle(message: UserMessage) -> Any:
        message.sender_id = conversation_id(prefix, message.sender_id)
        return await on_new_message(message)

    return handle


def client_address(request: Optional[Request]) -> Text:
    """The caller's address: from the proxy's X-Forwarded-For when Sanic is told to trust one
    (TRUSTED_PROXIES, which sets SANIC_PROXIES_COUNT, as behind HAProxy), else the socket's peer."""
    if request is None:
        return ""
    return request.remote_addr or request.ip or ""


def with_client(metadata: Optional[Dict], address: Text) -> Dict:
    return {**(metadata or {}), CLIENT_METADATA_KEY: address}
