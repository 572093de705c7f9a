"""Rewards points for a verified customer, and the one personal touch after an order look-up."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from actions.loyalty import ActionLoyaltyStatus
from actions.orders import ActionShowOrder
from bot.conversation import Conversation
from bot.engagement import holiday_calendar, touches as engagement
from bot.orders import lookup as orders
from bot.policies import format_date, join_words
from bot.store.models import Customer
from bot.support import handoff
from tests.actions.conftest import make_tracker, response_names, run_action
from tests.actions.test_faq_actions import PLACEHOLDER, pin_today, render  # noqa: F401 (fixture)
from tests.factories import make_customer, make_order, make_product, make_shipment

EMAIL = "ann.lee@example.com"
BEFORE_THE_SALE = dt.date(2025, 11, 20)
IN_DECEMBER = dt.date(2025, 12, 10)


def shop_with(store, today, *, points=0, birthday=None, orders_placed=(3,), delayed=False):
    """Ann and her orders (placed days before today, newest last); returns the newest's number."""
    with store.session() as s:
        ann = make_customer(s, name="Ann Lee", email=EMAIL, loyalty_points=points, birthday=birthday)
        lamp = make_product(s, name="Star Lamp", price="40.00")
        bulbs = make_product(s, name="Spare Bulbs", price="6.00")
        lamp.complements.append(bulbs)
        number = None
        for days_ago in orders_placed:
            placed = dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(10))
            order = make_order(s, ann, items=[(lamp, 1)], status="delayed" if delayed else "shipped", placed_at=placed)
            events = [(placed + dt.timedelta(days=1), "delayed", "Memphis, TN", "Weather delay")] if delayed else ()
            make_shipment(s, order, eta=today + dt.timedelta(days=2), events=events)
            number = order.number
        return number


def verified(store, cid, number, config):
    with store.session() as s:
        assert orders.verify(s, cid, number, EMAIL, config).outcome == "verified"
    return {"order_number": number, "order_email": EMAIL}


def ask_points(cid, domain, slots=None):
    return run_action(ActionLoyaltyStatus(), make_tracker(cid, slots=slots, intent="loyalty_status"), domain)


# --- loyalty ------------------------------------------------------------------------------------


def test_points_tier_next_tier_and_double_points_days(action_store, domain, conversation_id, pin_today):
    config = pin_today(BEFORE_THE_SALE)
    slots = verified(action_store, conversation_id, shop_with(action_store, config.today(), points=1720), config)
    _, messages = ask_points(conversation_id, domain, slots)
    tier, next_tier, needed = engagement.loyalty_tier(1720, config)
    assert response_names(messages) == [
        "utter_loyalty_points", "utter_loyalty_next_tier", "utter_loyalty_double_points_days",
    ]
    assert (messages[0]["first_name"], messages[0]["points"], messages[0]["tier"]) == ("Ann", "1,720", tier)
    assert (messages[1]["points_needed"], messages[1]["next_tier"]) == (f"{needed:,}", next_tier)
    upcoming = holiday_calendar.upcoming_double_points_days(BEFORE_THE_SALE, config)
    assert messages[2]["days"] == join_words(format_date(d, weekday=True, year=False) for d in upcoming)
    assert "Friday, November 28" in messages[2]["days"]
    for message in messages:
        assert not PLACEHOLDER.search(render(domain, message))


def test_points_are_read_from_the_database_when_asked(action_store, domain, conversation_id, pin_today):
    config = pin_today(BEFORE_THE_SALE)
    slots = verified(action_store, conversation_id, shop_with(action_store, config.today(), points=100), config)
    with action_store.session() as s:
        s.execute(update(Customer).where(Customer.email == EMAIL).values(loyalty_points=640))
    _, messages = ask_points(conversation_id, domain, slots)
    assert messages[0]["points"] == "640"


def test_top_tier_and_a_double_points_day(action_store, domain, conversation_id, pin_today):
    config = pin_today(holiday_calendar.black_friday(2025))
    top = max(threshold for _, threshold in config.loyalty_tiers)
    slots = verified(action_store, conversation_id, shop_with(action_store, config.today(), points=top + 10), config)
    _, messages = ask_points(conversation_id, domain, slots)
    assert response_names(messages)[:3] == [
        "utter_loyalty_points", "utter_loyalty_top_tier", "utter_loyalty_double_points_today",
    ]


def test_the_conversations_verified_order_is_enough(action_store, domain, conversation_id, pin_today):
    """Asked later in the chat with the slots gone, the verification still counts."""
    config = pin_today(BEFORE_THE_SALE)
    verified(action_store, conversation_id, shop_with(action_store, config.today(), points=320), config)
    _, messages = ask_points(conversation_id, domain)
    assert messages[0]["points"] == "320"


def test_a_typed_order_number_shows_no_points(action_store, domain, conversation_id, pin_today):
    config = pin_today(BEFORE_THE_SALE)
    number = shop_with(action_store, config.today(), points=900)
    _, messages = ask_points(conversation_id, domain, {"order_number": number, "order_email": EMAIL})
    assert "utter_loyalty_points" not in response_names(messages)


# --- the personal touch after an order look-up -----------------------------------------------


def show_order(cid, domain, slots, events=None):
    tracker = make_tracker(cid, slots=slots, intent="track_order", events=events)
    return run_action(ActionShowOrder(), tracker, domain)


def touched(events) -> bool:
    return {"event": "slot", "timestamp": None, "name": "personal_touch_done", "value": True} in events


def test_a_birthday_offer_takes_the_complements_place_once(action_store, domain, conversation_id, pin_today):
    config = pin_today(IN_DECEMBER)
    number = shop_with(action_store, config.today(), birthday=dt.date(1990, 12, 20), orders_placed=(40, 3))
    slots = verified(action_store, conversation_id, number, config)
    events, messages = show_order(conversation_id, domain, slots)
    assert response_names(messages)[-1] == "utter_personal_touch"
    assert "birthday" in render(domain, messages[-1]) and "utter_complement" not in response_names(messages)
    assert touched(events)

    events, messages = show_order(conversation_id, domain, {**slots, "personal_touch_done": True})
    assert response_names(messages)[-1] == "utter_complement" and not touched(events)


def test_a_first_order_gets_a_thank_you(action_store, domain, conversation_id, pin_today):
    config = pin_today(IN_DECEMBER)
    slots = verified(action_store, conversation_id, shop_with(action_store, config.today(), orders_placed=(3,)), config)
    events, messages = show_order(conversation_id, domain, slots)
    assert response_names(messages)[-1] == "utter_personal_touch"
    assert "first order" in messages[-1]["touch"] and touched(events)


def test_a_product_suggestion_is_not_a_personal_touch(action_store, domain, conversation_id, pin_today):
    config = pin_today(IN_DECEMBER)
    slots = verified(action_store, conversation_id, shop_with(action_store, config.today(), orders_placed=(40, 3)), config)
    events, messages = show_order(conversation_id, domain, slots)
    assert response_names(messages)[-1] == "utter_complement" and messages[-1]["product_name"] == "Spare Bulbs"
    assert not touched(events)


def user_said(text, intent):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


@pytest.mark.parametrize(
    "earlier",
    [
        [user_said("I want my money back for the lamp", "request_refund")],
        [user_said("the lamp arrived broken", "report_problem")],
        [user_said("this is ridiculous, worst service ever!!!", "track_order")],
    ],
)
def test_no_touch_during_a_complaint(action_store, domain, conversation_id, pin_today, earlier):
    config = pin_today(IN_DECEMBER)
    number = shop_with(action_store, config.today(), birthday=dt.date(1990, 12, 20))
    slots = verified(action_store, conversation_id, number, config)
    events, messages = show_order(conversation_id, domain, slots, events=earlier)
    assert "utter_personal_touch" not in response_names(messages) and not touched(events)


def test_no_touch_while_a_person_is_on_the_case(action_store, domain, conversation_id, pin_today):
    config = pin_today(IN_DECEMBER)
    slots = verified(action_store, conversation_id, shop_with(action_store, config.today(), birthday=dt.date(1990, 12, 20)), config)
    with action_store.session() as s:
        handoff.open_ticket(s, Conversation(conversation_id, "rest", []), "asked_for_human", "help", settings=config)
    _, messages = show_order(conversation_id, domain, slots)
    assert "utter_personal_touch" not in response_names(messages)


def test_no_touch_for_a_delayed_order(action_store, domain, conversation_id, pin_today):
    config = pin_today(IN_DECEMBER)
    number = shop_with(action_store, config.today(), birthday=dt.date(1990, 12, 20), delayed=True)
    slots = verified(action_store, conversation_id, number, config)
    events, messages = show_order(conversation_id, domain, slots)
    assert response_names(messages)[-1] == "utter_order_delayed_next_step" and not touched(events)
