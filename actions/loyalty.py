"""Rewards points for a verified customer. The look-up form proves who is asking
(order_purpose "loyalty"); the points are read from the database at the moment of asking."""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_id, settings, store
from actions.orders import utter_not_verified
from bot.engagement import touches as engagement
from bot.orders import lookup as orders
from bot.policies import format_date, join_words


class ActionLoyaltyStatus(Action):
    def name(self) -> str:
        return "action_loyalty_status"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        config = settings()
        today = config.today()
        cid = conversation_id(tracker)
        with store().session() as s:
            order = orders.verified_or_latest(s, cid, tracker.get_slot("order_number"))
            if order is not None:
                first_name = order.customer.first_name
                summary = engagement.loyalty_summary(s, order.customer_id, today, config)
        if order is None:  # said outside the unit of work: it reads the store itself
            return utter_not_verified(dispatcher, tracker)

        dispatcher.utter_message(
            response="utter_loyalty_points", first_name=first_name, points=f"{summary.points:,}", tier=summary.tier
        )
        if summary.next_tier:
            dispatcher.utter_message(
                response="utter_loyalty_next_tier",
                points_needed=f"{summary.points_to_next_tier:,}",
                next_tier=summary.next_tier,
            )
        else:
            dispatcher.utter_message(response="utter_loyalty_top_tier")
        if summary.double_points_today:
            dispatcher.utter_message(response="utter_loyalty_double_points_today")
        if summary.upcoming_double_points_days:
            days = join_words(
                format_date(day, weekday=True, year=day.year != today.year)
                for day in summary.upcoming_double_points_days
            )
            dispatcher.utter_message(response="utter_loyalty_double_points_days", days=days)
        return []
