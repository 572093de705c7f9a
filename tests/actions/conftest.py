"""Action tests: real rasa-sdk actions and trackers, against a real database."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import bot.store.engine

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def domain() -> dict:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain")).as_dict()


@pytest.fixture
def action_store(store, monkeypatch):
    """Makes the actions use the test's store, as the action server uses the configured one."""
    monkeypatch.setattr(bot.store.engine, "_store", store)
    return store


def make_tracker(sender_id: str, slots: dict | None = None, text: str = "", intent: str = "inform",
                 entities: list | None = None, events: list | None = None,
                 active_loop: str | None = None) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    return Tracker(
        sender_id=sender_id,
        slots=dict(slots or {}),
        latest_message=latest,
        events=list(events or []),
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def run_action(action, tracker: Tracker, domain: dict):
    """Runs a sync or async action; returns (events, responses the shopper would see)."""
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, tracker, domain)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return result, dispatcher.messages


def response_names(messages) -> list[str]:
    return [m.get("response") for m in messages]
