"""Proactive order updates (issue #18): saying one the runner delivers, and "stop updates".

`python -m bot reminders run` fires `EXTERNAL_order_update{"update_id": N}` into the
conversation (bot.engagement.order_updates.deliver_due); this action says that update, once,
and only while the runner is delivering it: bot/ stamps it said under a row lock, so a shopper
typing the intent, or a retaken claim, gets nothing.
"""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_id, long_date, money, settings, store
from bot.engagement import order_updates
from bot.orders import lookup
from bot.store.models import OrderUpdate

RESPONSE_FOR_KIND = {kind: f"utter_order_update_{kind}" for kind in order_updates.KINDS}


def _message_values(s, update: OrderUpdate) -> dict[str, str]:
    """What the kind's response names, read from the database."""
    order = update.order
    answer = lookup.tracking(s, order, settings())
    values = {
        "order_number": order.number,
        "items": answer.items,
        "tracking_url": answer.tracking_url or "",
        "eta": long_date(answer.eta) if answer.eta else "soon",
        "delay_reason": answer.delay_reason or "a hold-up with the carrier",
        "christmas_date": long_date(answer.christmas_date) if answer.christmas_date else "",
    }
    if update.ret is not None:
        values["rma"] = update.ret.rma
    if update.refund is not None:
        values["amount"] = money(update.refund.amount)
        values["refund_method"] = update.refund.method.replace("_", " ")
    return values


class ActionSayOrderUpdate(Action):
    """Speaks when the runner delivers an order update into this conversation, and only then."""

    def name(self) -> str:
        return "action_say_order_update"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        update_id = next(tracker.get_latest_entity_values("update_id"), None)
        with store().session() as s:
            update = order_updates.take_for_saying(s, conversation_id(tracker), update_id, settings().now())
            if update is None:
                return []
            response, values = RESPONSE_FOR_KIND[update.kind], _message_values(s, update)
        dispatcher.utter_message(response=response, **values)
        return [SlotSet("order_number", values["order_number"])]


class ActionStopUpdates(Action):
    def name(self) -> str:
        return "action_stop_updates"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        with store().session() as s:
            order_updates.opt_out(s, conversation_id(tracker), settings().now())
        dispatcher.utter_message(response="utter_order_updates_stopped")
        return []


class ActionResumeUpdates(Action):
    def name(self) -> str:
        return "action_resume_updates"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        with store().session() as s:
            order_updates.opt_in(s, conversation_id(tracker))
        dispatcher.utter_message(response="utter_order_updates_resumed")
        return []
