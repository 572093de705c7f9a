"""Sale reminders in whole conversations: asked for in the chat, stored in the demo store, and
spoken into the same conversation when the runner fires them at the sale's first morning.

The shared stack runs on servers.stack_today(), a day before the sale (tests/conftest.py), so
there is always a sale to be reminded of, whatever the real date."""
from __future__ import annotations

import dataclasses
import json
import urllib.parse
import urllib.request
import uuid

import pytest

from bot.cli.reminders import send_through_rasa
from bot.engagement import holiday_calendar, reminders
from bot.settings import load_settings
from channels.rest import rest_conversation_id
from tests.bot.test_reminders import upcoming
from tests.servers import api_token

pytestmark = pytest.mark.usefixtures("assistant")


def sale_to_come(config):
    """The sale the shopper asks about; the stack's date is chosen before it starts."""
    sale = holiday_calendar.holiday_sale(config.today(), config)
    assert sale.status == "upcoming", f"the stack's date {config.today()} should come before the sale"
    return sale


def reminder_of(store, conversation_id: str):
    return [r for r in upcoming(store) if r.conversation_id == conversation_id]


def test_a_reminder_offered_after_the_sale_dates_arrives_when_the_sale_starts(assistant, demo_store):
    config = load_settings()
    sale_to_come(config)
    chat = assistant.new_conversation()
    answer = chat.say("when is your black friday sale?")
    assert holiday_calendar.sale_dates_text(config.today(), config) in answer
    assert "remind you here when the sale starts" in answer

    confirmation = chat.say("yes please")
    assert "I'll send you a message in this chat" in confirmation
    [stored] = reminder_of(demo_store, chat.sender_id)

    spoken = []
    report = reminders.deliver_due(
        demo_store, lambda due: spoken.append(chat.fire(due.intent, due.entities)), now=stored.due_at, settings=config
    )
    assert stored.id in report.sent
    assert len(spoken) == 1 and "the holiday sale is on now" in spoken[0]
    assert config.store_url in spoken[0]
    assert reminder_of(demo_store, chat.sender_id) == []


def test_asking_for_a_reminder_directly_and_twice_keeps_one(assistant, demo_store):
    config = load_settings()
    sale_to_come(config)
    chat = assistant.new_conversation()
    assert "I'll send you a message in this chat" in chat.say("can you remind me when the black friday sale starts?")
    assert "You're all set" in chat.say("please remind me when the sale starts")
    assert len(reminder_of(demo_store, chat.sender_id)) == 1


@pytest.mark.parametrize("message", ["remind me to call my mom tomorrow at 6", "set a reminder for my dentist on friday"])
def test_a_personal_reminder_is_not_kept(assistant, demo_store, message):
    chat = assistant.new_conversation()
    answer = chat.say(message)
    assert answer and "I'll send you a message" not in answer
    assert reminder_of(demo_store, chat.sender_id) == []


def test_a_reminder_typed_by_the_shopper_says_nothing_about_a_sale(assistant):
    chat = assistant.new_conversation()
    answer = chat.say('/EXTERNAL_sale_reminder{"reminder_id": "1"}')
    assert "sale is on now" not in answer


def bot_messages(rasa_url: str, sender: str) -> list[str]:
    token = urllib.parse.urlencode({"token": api_token()})
    path = f"{rasa_url}/conversations/{urllib.parse.quote(sender, safe=':')}/tracker?{token}"
    with urllib.request.urlopen(path, timeout=30) as r:
        return [e["text"] for e in json.loads(r.read())["events"] if e["event"] == "bot" and e.get("text")]


def test_the_runner_fires_the_reminder_through_a_running_rasa_server(running_stack):
    """What `make run` does: REST conversation, reminder runner, Rasa's trigger_intent API."""
    config = dataclasses.replace(load_settings(), rasa_url=running_stack.rasa_url)
    sale_to_come(config)
    sender = f"live-{uuid.uuid4().hex[:10]}"
    conversation = rest_conversation_id(sender)  # REST conversations are kept as rest:<sender>
    answer = running_stack.rasa.say(sender, "please remind me when your black friday sale starts")
    assert "I'll send you a message in this chat" in answer
    [stored] = reminder_of(running_stack.store, conversation)

    early = reminders.deliver_due(running_stack.store, send_through_rasa(config), now=stored.due_at.replace(hour=8),
                                  settings=config)
    assert stored.id not in early.sent
    report = reminders.deliver_due(running_stack.store, send_through_rasa(config), now=stored.due_at, settings=config)
    assert stored.id in report.sent
    assert "the holiday sale is on now" in bot_messages(running_stack.rasa_url, conversation)[-1]
    assert reminder_of(running_stack.store, conversation) == []
