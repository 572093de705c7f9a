"""FAQ answers as the shopper reads them: every template filled from the store's calendar on a
pinned day, and the sale reminder that can follow the sale-dates answer."""
from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest

from actions.engagement import (
    SALE_REMINDER_INTENT,
    ActionScheduleSaleReminder,
    ActionSendSaleReminder,
    sale_reminder_offer,
)
from actions.faq import ActionFaq
from bot import holiday_calendar
from bot.policies import format_date
from bot.settings import get_settings
from tests.actions.conftest import make_tracker, response_names, run_action

PLACEHOLDER = re.compile(r"\{[^{}]*\}")
# A value and its template both saying the unit: "within 30 days days".
DOUBLED_WORD = re.compile(r"\b(\w+) \1\b", re.IGNORECASE)
# What rasa-sdk puts in every message besides the values a response is filled with.
MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}
BEFORE_THE_SALE = dt.date(2025, 11, 20)  # Black Friday 2025 is November 28


@pytest.fixture
def pin_today(monkeypatch):
    """Pins the store's date for the actions (they read get_settings(), cached per process)."""

    def pin(day: dt.date):
        monkeypatch.setenv("TINSEL_TODAY", day.isoformat())
        get_settings.cache_clear()
        return get_settings()

    yield pin
    get_settings.cache_clear()


def render(domain: dict, message: dict, slots: dict | None = None) -> str:
    """The text Rasa sends for an action's message: its response filled with the values."""
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    rasa_domain = Domain.from_dict(domain)
    tracker = DialogueStateTracker("render", rasa_domain.slots)
    for name, value in (slots or {}).items():
        tracker.update(SlotSet(name, value))
    values = {k: v for k, v in message.items() if k not in MESSAGE_KEYS}
    generator = TemplatedNaturalLanguageGenerator(rasa_domain.responses)
    rendered = asyncio.run(generator.generate(message["response"], tracker, "rest", **values))
    return rendered["text"]


def faq_keys(domain) -> list[str]:
    return sorted(name for name in domain["responses"] if name.startswith("utter_faq/"))


def selected(response: str | None) -> dict:
    """The ResponseSelector's part of the parse data, as Rasa 3 sends it to the action server."""
    if response is None:
        return {}
    return {"faq": {"response": {"utter_action": response, "responses": [], "confidence": 0.97,
                                 "intent_response_key": response.removeprefix("utter_")},
                    "ranking": []}}


def ask_faq(cid: str, domain: dict, response: str | None, slots: dict | None = None):
    tracker = make_tracker(cid, slots=slots, intent="faq")
    tracker.latest_message["response_selector"] = selected(response)
    return run_action(ActionFaq(), tracker, domain)


def answer_text(cid, domain, key) -> str:
    _, messages = ask_faq(cid, domain, key)
    assert response_names(messages) == [key]
    return render(domain, messages[0])


def test_there_are_faq_answers_to_check(domain):
    assert len(faq_keys(domain)) >= 10


@pytest.mark.parametrize("day", [dt.date(2025, 6, 15), BEFORE_THE_SALE, dt.date(2025, 12, 23), dt.date(2026, 1, 10)])
def test_every_faq_answer_is_filled_in_all_year(domain, conversation_id, pin_today, day):
    pin_today(day)
    for key in faq_keys(domain):
        text = answer_text(conversation_id, domain, key)
        assert not PLACEHOLDER.search(text), f"{key} on {day}: {text}"
        assert not DOUBLED_WORD.search(text), f"{key} on {day}: {text}"


def test_the_dates_shown_are_the_calendars(domain, conversation_id, pin_today):
    config = pin_today(BEFORE_THE_SALE)
    sale = holiday_calendar.holiday_sale(BEFORE_THE_SALE, config)
    sale_answer = answer_text(conversation_id, domain, "utter_faq/sale_dates")
    assert holiday_calendar.sale_dates_text(BEFORE_THE_SALE, config) in sale_answer
    assert format_date(sale.start, weekday=True, year=False) == "Friday, November 28"
    assert "Friday, November 28" in sale_answer and "(starts in 8 days)" in sale_answer

    shipping_answer = answer_text(conversation_id, domain, "utter_faq/shipping_deadline")
    for cutoff in holiday_calendar.christmas_cutoffs(BEFORE_THE_SALE, config):
        assert format_date(cutoff.last_order_date, weekday=True, year=False) in shipping_answer

    returns_answer = answer_text(conversation_id, domain, "utter_faq/return_policy")
    window = holiday_calendar.holiday_return_window(BEFORE_THE_SALE, config)
    assert format_date(window.return_until) in returns_answer
    assert f"within {config.standard_return_days} days of delivery" in returns_answer


def test_a_question_the_selector_could_not_place_gets_the_default(domain, conversation_id):
    _, messages = ask_faq(conversation_id, domain, None)
    assert response_names(messages) == ["utter_default"]
    _, messages = ask_faq(conversation_id, domain, "utter_faq/no_such_question")
    assert response_names(messages) == ["utter_default"]


# --- the sale reminder -------------------------------------------------------------------------


def test_a_reminder_is_offered_after_the_sale_dates_while_the_sale_is_ahead(conversation_id, pin_today):
    pin_today(BEFORE_THE_SALE)
    tracker = make_tracker(conversation_id)
    assert sale_reminder_offer(tracker, "utter_faq/sale_dates") == [
        {"event": "followup", "timestamp": None, "name": "utter_offer_sale_reminder"}
    ]
    assert sale_reminder_offer(tracker, "utter_faq/gift_wrap") == []
    already = make_tracker(conversation_id, slots={"sale_reminder_at": "2025-11-28T09:00:00"})
    assert sale_reminder_offer(already, "utter_faq/sale_dates") == []
    pin_today(dt.date(2025, 11, 29))
    assert sale_reminder_offer(tracker, "utter_faq/sale_dates") == []


def test_the_reminder_is_scheduled_for_the_first_morning_of_the_sale(domain, conversation_id, pin_today):
    pin_today(BEFORE_THE_SALE)
    events, messages = run_action(ActionScheduleSaleReminder(), make_tracker(conversation_id), domain)
    reminder = next(e for e in events if e["event"] == "reminder")
    assert reminder["intent"] == SALE_REMINDER_INTENT
    assert reminder["date_time"] == "2025-11-28T09:00:00"
    assert reminder["name"] == f"sale_reminder_{conversation_id}" and reminder["kill_on_user_msg"] is False
    assert response_names(messages) == ["utter_sale_reminder_set"]
    assert "Friday, November 28" in render(domain, messages[0])


def test_asking_twice_schedules_one_reminder(domain, conversation_id, pin_today):
    pin_today(BEFORE_THE_SALE)
    first, _ = run_action(ActionScheduleSaleReminder(), make_tracker(conversation_id), domain)
    slots = {e["name"]: e["value"] for e in first if e["event"] == "slot"}
    again, messages = run_action(ActionScheduleSaleReminder(), make_tracker(conversation_id, slots=slots), domain)
    assert [e for e in again if e["event"] == "reminder"] == []
    assert response_names(messages) == ["utter_sale_reminder_already_set"]


def test_no_reminder_while_the_sale_is_on(domain, conversation_id, pin_today):
    pin_today(dt.date(2025, 11, 29))
    events, messages = run_action(ActionScheduleSaleReminder(), make_tracker(conversation_id), domain)
    assert events == []
    assert response_names(messages) == ["utter_sale_already_on"]
    assert "Monday, December 1" in render(domain, messages[0])


def test_the_reminder_speaks_only_once_the_sale_is_on(domain, conversation_id, pin_today):
    config = pin_today(dt.date(2025, 11, 28))
    events, messages = run_action(ActionSendSaleReminder(), make_tracker(conversation_id, intent=SALE_REMINDER_INTENT), domain)
    assert response_names(messages) == ["utter_sale_reminder"]
    text = render(domain, messages[0])
    assert "Monday, December 1" in text and config.store_url in text
    assert {"event": "slot", "timestamp": None, "name": "sale_reminder_at", "value": None} in events

    pin_today(dt.date(2025, 11, 27))
    _, messages = run_action(ActionSendSaleReminder(), make_tracker(conversation_id, intent=SALE_REMINDER_INTENT), domain)
    assert messages == []
