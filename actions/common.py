"""What every action needs: the store, the settings and who is talking."""
from __future__ import annotations

from contextvars import ContextVar
from decimal import Decimal
from typing import Any, Callable, Hashable, TypeVar

from rasa_sdk import Tracker

from bot.conversation import Conversation
from bot.settings import Settings, get_settings
from bot.store.engine import Store, get_store

T = TypeVar("T")
# What one action call has already looked up; each request runs in its own task, so its own context.
_LOOKED_UP_IN_THIS_CALL: ContextVar[dict | None] = ContextVar("looked_up_in_this_call", default=None)


def store() -> Store:
    return get_store()


def settings() -> Settings:
    return get_settings()


def conversation_id(tracker: Tracker) -> str:
    return tracker.sender_id


def channel(tracker: Tracker) -> str:
    return (tracker.get_latest_input_channel() or "unknown")


def money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def long_date(day) -> str:
    return f"{day:%A, %B} {day.day}"


def transcript(tracker: Tracker, limit: int = 40) -> list[dict[str, str]]:
    """The conversation so far as {"who", "text"} lines, for the human who takes over."""
    lines = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            lines.append({"who": "shopper", "text": event["text"]})
        elif event.get("event") == "bot" and event.get("text"):
            lines.append({"who": "bot", "text": event["text"]})
    return lines[-limit:]


def conversation_of(tracker: Tracker) -> Conversation:
    """Who is talking, where, and what was said: built once per action and passed to bot/."""
    return Conversation(conversation_id(tracker), channel(tracker), transcript(tracker))


class LooksUpOncePerCall:
    """rasa-sdk asks a form validator's required_slots up to three times in one call (after
    extraction, after validation, for the next slot), each time reading the same order: with this
    mixin first in the bases, `once_per_call` lookups reach the database once per call."""

    async def run(self, dispatcher, tracker, domain) -> list[dict]:
        token = _LOOKED_UP_IN_THIS_CALL.set({})
        try:
            return await super().run(dispatcher, tracker, domain)
        finally:
            _LOOKED_UP_IN_THIS_CALL.reset(token)


def once_per_call(key: Hashable, look_up: Callable[[], T]) -> T:
    """look_up(), or what it gave earlier in this action call for the same key."""
    looked_up = _LOOKED_UP_IN_THIS_CALL.get()
    if looked_up is None:
        return look_up()
    if key not in looked_up:
        looked_up[key] = look_up()
    return looked_up[key]
