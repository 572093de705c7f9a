"""Every bot message leaves through a channel's output; here it passes bot/privacy/safe_links first, so
only http(s) and mailto links reach a shopper, whatever wrote the message (a response, an
action, an agent's reply)."""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.privacy.safe_links import safe_message


class WrappedOutput(OutputChannel):
    """A channel's output with one change to send_response; otherwise that channel. Rasa sends
    every bot message through send_response."""

    def __init__(self, channel: OutputChannel) -> None:
        self.channel = channel

    def name(self) -> Text:  # type: ignore[override]
        return self.channel.name()

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.channel, attribute)


class SafeLinksOutput(WrappedOutput):
    """Sends each message made safe."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        await self.channel.send_response(recipient_id, safe_message(message))


def safe_output(channel: Optional[OutputChannel]) -> Optional[OutputChannel]:
    if channel is None or isinstance(channel, SafeLinksOutput):
        return channel
    return SafeLinksOutput(channel)


def with_safe_links(on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable[[UserMessage], Awaitable[Any]]:
    """The handler a channel's blueprint gets: the message's replies go out made safe."""

    async def handle(message: UserMessage) -> Any:
        message.output_channel = safe_output(message.output_channel)
        return await on_new_message(message)

    return handle
