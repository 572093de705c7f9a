"""What every action needs: the store, the settings and who is talking."""
from __future__ import annotations

from decimal import Decimal

from rasa_sdk import Tracker

from bot.conversation import Conversation
from bot.settings import Settings, get_settings
from bot.store.engine import Store, get_store


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
