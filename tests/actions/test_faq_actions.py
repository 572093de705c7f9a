"""FAQ answers as the shopper reads them: every template filled from the store's calendar on a
pinned day, and the sale reminder that can follow the sale-dates answer."""
from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest

from actions.engagement import ActionScheduleSaleReminder, ActionSendSaleReminder, sale_reminder_offer
from actions.faq import ActionFaq
from bot import policies
from bot.engagement import holiday_calendar, reminders
from bot.policies import format_date
from bot.settings import get_settings
from tests.actions.conftest import make_tracker, response_names, run_action
from tests.bot.test_reminders import upcoming

PLACEHOLDER = re.compile(r"\{[^{}]*\}")
# A value and its template both saying the unit: "within 30 days days".
DOUBLED_WORD = re.compile(r"\b(\w+) \1\b", re.IGNORECASE)
# What rasa-sdk puts in every message besides the values a response is filled with.
MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}
BEFORE_THE_SALE = dt.date(2025, 11, 20)  # Black Friday 2025 is November 28

# The sale-dates answer looks up the conversation's reminders in the store.
pytestmark = pytest.mark.usefixtures("action_store")


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


def test_policy_answers_say_what_the_store_policies_say(domain, conversation_id, pin_today):
    pin_today(BEFORE_THE_SALE)
    answer = lambda key: answer_text(conversation_id, domain, f"utter_faq/{key}")  # noqa: E731
    wrap = answer("gift_wrap")
    assert all(rule in wrap for rule in policies.GIFT_WRAP_RULES)
    receipt = answer("gift_receipt")
    assert all(rule in receipt for rule in policies.GIFT_RECEIPT_RULES)
    adjustment = answer("price_adjustment")
    assert f"within {policies.PRICE_ADJUSTMENT_DAYS} days" in adjustment
    assert all(excluded in adjustment for excluded in policies.PRICE_ADJUSTMENT_EXCLUDES)
    cards = answer("gift_cards")
    assert policies.gift_card_amounts_text() in cards and all(rule in cards for rule in policies.GIFT_CARD_RULES)
    international = answer("international_shipping")
    assert all(country in international for country in policies.INTERNATIONAL_SHIPPING_COUNTRIES)
    assert policies.INTERNATIONAL_CHRISTMAS_NOTE in international


def test_a_question_the_selector_could_not_place_gets_the_default(domain, conversation_id):
    _, messages = ask_faq(conversation_id, domain, None)
    assert response_names(messages) == ["utter_default"]
    _, messages = ask_faq(conversation_id, domain, "utter_faq/no_such_question")
    assert response_names(messages) == ["utter_default"]


# --- the sale reminder -------------------------------------------------------------------------


OFFER = {"event": "followup", "timestamp": None, "name": "utter_offer_sale_reminder"}


def test_the_sale_dates_answer_offers_a_reminder_while_the_sale_is_ahead(domain, conversation_id, pin_today):
    pin_today(BEFORE_THE_SALE)
    events, messages = ask_faq(conversation_id, domain, "utter_faq/sale_dates")
    assert response_names(messages) == ["utter_faq/sale_dates"] and events == [OFFER]
    events, _ = ask_faq(conversation_id, domain, "utter_faq/gift_wrap")
    assert events == []
    in_the_gift_finder = make_tracker(conversation_id, active_loop="gift_form")
    assert sale_reminder_offer(in_the_gift_finder, "utter_faq/sale_dates") == []
    pin_today(dt.date(2025, 11, 29))
    assert sale_reminder_offer(make_tracker(conversation_id), "utter_faq/sale_dates") == []


def test_a_conversation_with_a_reminder_is_not_offered_another(domain, conversation_id, pin_today):
    pin_today(BEFORE_THE_SALE)
    run_action(ActionScheduleSaleReminder(), make_tracker(conversation_id), domain)
    assert sale_reminder_offer(make_tracker(conversation_id), "utter_faq/sale_dates") == []
    assert sale_reminder_offer(make_tracker("someone-else"), "utter_faq/sale_dates") == [OFFER]


def test_the_reminder_is_stored_for_the_first_morning_of_the_sale(domain, conversation_id, pin_today, action_store):
    pin_today(BEFORE_THE_SALE)
    events, messages = run_action(ActionScheduleSaleReminder(), make_tracker(conversation_id), domain)
    assert events == [] and response_names(messages) == ["utter_sale_reminder_set"]
    assert "Friday, November 28" in render(domain, messages[0])
    [stored] = upcoming(action_store)
    assert stored.conversation_id == conversation_id
    assert stored.due_at == dt.datetime(2025, 11, 28, 9, 0)


def asked(cid, text):
    return make_tracker(cid, text=text, intent="ask_sale_reminder")


def test_a_direct_request_for_the_sale_reminder_is_stored(domain, conversation_id, pin_today, action_store):
    pin_today(BEFORE_THE_SALE)
    _, messages = run_action(ActionScheduleSaleReminder(), asked(conversation_id, "remind me when black friday starts"), domain)
    assert response_names(messages) == ["utter_sale_reminder_set"]
    assert len(upcoming(action_store)) == 1


def test_a_personal_reminder_is_declined_and_the_sale_one_offered(domain, conversation_id, pin_today, action_store):
    pin_today(BEFORE_THE_SALE)
    events, messages = run_action(ActionScheduleSaleReminder(), asked(conversation_id, "remind me to call mom at 6"), domain)
    assert response_names(messages) == ["utter_reminders_only_for_sales"]
    assert events == [OFFER]
    assert upcoming(action_store) == []


def test_asking_twice_keeps_one_reminder(domain, conversation_id, pin_today, action_store):
    pin_today(BEFORE_THE_SALE)
    run_action(ActionScheduleSaleReminder(), make_tracker(conversation_id), domain)
    _, messages = run_action(ActionScheduleSaleReminder(), make_tracker(conversation_id), domain)
    assert response_names(messages) == ["utter_sale_reminder_already_set"]
    assert len(upcoming(action_store)) == 1


def test_no_reminder_while_the_sale_is_on(domain, conversation_id, pin_today, action_store):
    pin_today(dt.date(2025, 11, 29))
    events, messages = run_action(ActionScheduleSaleReminder(), make_tracker(conversation_id), domain)
    assert events == [] and upcoming(action_store) == []
    assert response_names(messages) == ["utter_sale_already_on"]
    assert "Monday, December 1" in render(domain, messages[0])


def reminder_fired(conversation_id: str, reminder_id) -> "Tracker":
    entities = [{"entity": "reminder_id", "value": reminder_id}]
    return make_tracker(conversation_id, intent=reminders.INTENT_FOR_KIND[reminders.SALE_START], entities=entities)


def test_the_reminder_speaks_when_the_runner_delivers_it(domain, conversation_id, pin_today, action_store):
    config = pin_today(BEFORE_THE_SALE)
    run_action(ActionScheduleSaleReminder(), make_tracker(conversation_id), domain)
    spoken = []

    def send(due):
        _, messages = run_action(ActionSendSaleReminder(), reminder_fired(due.conversation_id, due.id), domain)
        spoken.extend(messages)

    due_at = holiday_calendar.sale_reminder_at(BEFORE_THE_SALE, config)
    reminders.deliver_due(action_store, send, now=due_at, settings=config)
    assert response_names(spoken) == ["utter_sale_reminder"]
    text = render(domain, spoken[0])
    assert "Monday, December 1" in text and config.store_url in text


def test_a_shopper_typing_the_reminder_intent_gets_no_sale_message(domain, conversation_id, pin_today, action_store):
    pin_today(BEFORE_THE_SALE)
    run_action(ActionScheduleSaleReminder(), make_tracker(conversation_id), domain)
    [scheduled] = upcoming(action_store)
    for claimed_id in (scheduled.id, None, "1 OR 1=1", 999999):
        _, messages = run_action(ActionSendSaleReminder(), reminder_fired(conversation_id, claimed_id), domain)
        assert messages == []
