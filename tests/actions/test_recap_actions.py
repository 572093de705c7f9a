"""action_holiday_recap: only for a verified shopper, figures from bot.engagement.recap."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from actions.recap import ActionHolidayRecap, ActionSendHolidayRecap
from bot.engagement import recap, reminders
from bot.settings import get_settings
from bot.store.models import Order, VerifiedOrder
from tests.actions.conftest import make_tracker, response_names, run_action
from tests.bot.test_recap import TODAY, a_season_of_orders

CHAT = "web:" + "f" * 32


def test_an_unverified_conversation_is_asked_to_verify(action_store, domain, monkeypatch):
    _, messages = run_action(ActionHolidayRecap(), make_tracker(CHAT, intent="holiday_recap"), domain)
    assert "utter_holiday_recap" not in response_names(messages)


def test_a_verified_shopper_gets_their_season(action_store, domain, settings, monkeypatch):
    monkeypatch.setenv("TINSEL_TODAY", TODAY.isoformat())
    get_settings.cache_clear()
    try:
        customer_id = a_season_of_orders(action_store, settings)
        with action_store.session() as s:
            order = s.execute(select(Order).where(Order.customer_id == customer_id, Order.is_gift.is_(True))).scalar_one()
            s.add(VerifiedOrder(conversation_id=CHAT, order_id=order.id,
                                verified_at=dt.datetime.combine(TODAY, dt.time(12))))
            number = order.number
        tracker = make_tracker(CHAT, slots={"order_number": number}, intent="holiday_recap")
        _, messages = run_action(ActionHolidayRecap(), tracker, domain)
    finally:
        get_settings.cache_clear()
    assert response_names(messages) == ["utter_holiday_recap", "utter_holiday_recap_gifts",
                                        "utter_holiday_recap_after_season", "utter_holiday_recap_thanks"]
    assert (messages[0]["orders"], messages[0]["spent"], messages[0]["money_back"]) == ("2 orders", "$70.00", "$22.50")
    with action_store.session() as s:
        due = reminders.pending(s, CHAT, reminders.HOLIDAY_RECAP)
        assert due.due_at == recap.recap_send_at(TODAY, settings)


def test_the_after_season_recap_speaks_only_while_the_runner_sends_it(action_store, domain, settings):
    customer_id = a_season_of_orders(action_store, settings)
    with action_store.session() as s:
        order = s.execute(select(Order).where(Order.customer_id == customer_id)).scalars().first()
        s.add(VerifiedOrder(conversation_id=CHAT, order_id=order.id, verified_at=dt.datetime.combine(TODAY, dt.time(12))))
        due = recap.recap_send_at(TODAY, settings)
        reminders.schedule_once(s, CHAT, "socketio", reminders.HOLIDAY_RECAP, due, due)
        reminder = reminders.pending(s, CHAT, reminders.HOLIDAY_RECAP)
        reminder_id = reminder.id
    fired = make_tracker(CHAT, intent="EXTERNAL_holiday_recap", entities=[{"entity": "reminder_id", "value": reminder_id}])
    _, typed = run_action(ActionSendHolidayRecap(), fired, domain)
    assert typed == []  # not being sent: a shopper typing the external intent gets nothing
    with action_store.session() as s:
        s.get(type(reminder), reminder_id).status = "sending"
    _, sent = run_action(ActionSendHolidayRecap(), fired, domain)
    assert response_names(sent)[0] == "utter_holiday_recap" and sent[0]["orders"] == "2 orders"
