"""The holiday recap (issue #18) for the verified shopper: their season, from bot.engagement.recap.
Asked for during the season, it comes again, complete, the morning after the season (a reminder
the runner fires as EXTERNAL_holiday_recap)."""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_id, long_date, money, settings, store
from actions.orders import utter_not_verified
from bot.engagement import recap, reminders
from bot.orders import lookup as orders
from bot.policies import format_date, join_words


class ActionHolidayRecap(Action):
    def name(self) -> str:
        return "action_holiday_recap"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        config = settings()
        cid = conversation_id(tracker)
        with store().session() as s:
            order = orders.verified_or_latest(s, cid, tracker.get_slot("order_number"))
            season = recap.holiday_recap(s, order.customer_id, config.today(), config) if order else None
            send_at = recap.recap_send_at(config.today(), config) if order else None
            if send_at is not None:
                reminders.schedule_once(s, cid, tracker.get_latest_input_channel() or "unknown",
                                        reminders.HOLIDAY_RECAP, send_at, config.now())
        if season is None:
            return utter_not_verified(dispatcher, tracker)
        tell_recap(dispatcher, season)
        if send_at is not None:
            dispatcher.utter_message(response="utter_holiday_recap_after_season", send_date=long_date(send_at.date()))
        dispatcher.utter_message(response="utter_holiday_recap_thanks")
        return []


class ActionSendHolidayRecap(Action):
    """Speaks when the runner fires the after-season recap into this conversation, and only then."""

    def name(self) -> str:
        return "action_send_holiday_recap"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        config = settings()
        cid = conversation_id(tracker)
        reminder_id = next(tracker.get_latest_entity_values("reminder_id"), None)
        with store().session() as s:
            reminder = reminders.being_sent(s, cid, reminder_id)
            order = orders.latest_verified_order(s, cid) if reminder is not None else None
            season = recap.holiday_recap(s, order.customer_id, reminder.due_at.date(), config) if order else None
        if season is None:
            return []
        tell_recap(dispatcher, season)
        dispatcher.utter_message(response="utter_holiday_recap_thanks")
        return []


def tell_recap(dispatcher: CollectingDispatcher, season: recap.Recap) -> None:
    window = f"{format_date(season.season_start)} to {format_date(season.season_end)}"
    if season.orders == 0:
        dispatcher.utter_message(response="utter_holiday_recap_empty", first_name=season.first_name, season=window)
        return
    dispatcher.utter_message(
        response="utter_holiday_recap", first_name=season.first_name, season=window,
        orders=counted(season.orders, "order"), spent=money(season.spent), points=f"{season.points:,}",
        money_back=money(season.money_back))
    if season.gifts:
        dispatcher.utter_message(response="utter_holiday_recap_gifts", gifts=counted(season.gifts, "gift order"),
                                 gift_items=join_words(sorted(set(season.gift_items))))


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
