"""Goodwill gestures (issue #18): the shopper picks what would help, the bot gives it within its
own limit for the conversation's incident, found in the database by bot.money.goodwill."""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_id, money, settings, store
from bot.money import goodwill

RESPONSE_FOR_KIND = {
    "store_credit": "utter_goodwill_store_credit",
    "shipping_upgrade": "utter_goodwill_shipping_upgrade",
    "gift_wrap": "utter_goodwill_gift_wrap",
}


class ActionGrantGoodwill(Action):
    def name(self) -> str:
        return "action_grant_goodwill"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        kind = next(tracker.get_latest_entity_values("goodwill_kind"), None)
        if kind not in goodwill.KINDS:
            dispatcher.utter_message(response="utter_goodwill_choose")
            return []
        config = settings()
        with store().session() as s:
            result = goodwill.grant_by_bot(s, conversation_id(tracker), kind, config, config.now())
            values = said_values(s, result)
        if result.status == "no_incident":
            dispatcher.utter_message(response="utter_goodwill_nothing_to_make_up")
        elif result.status == "over_limit":
            dispatcher.utter_message(response="utter_goodwill_needs_a_person")
        else:
            if result.status == "already_granted":
                dispatcher.utter_message(response="utter_goodwill_already_given")
            dispatcher.utter_message(response=values.pop("response"), **values)
        return []


def said_values(session, result: goodwill.Grant) -> dict[str, str]:
    """What the shopper is shown of a gesture: its code, value, order and credit balance."""
    gesture = result.gesture
    if gesture is None:
        return {}
    order = gesture.order
    response = RESPONSE_FOR_KIND[gesture.kind]
    if gesture.kind == "shipping_upgrade" and goodwill.upgraded_order(gesture):
        response = "utter_goodwill_shipping_upgrade_applied"
    return {
        "response": response,
        "code": gesture.code,
        "amount": money(gesture.value),
        "balance": money(goodwill.credit_balance(session, gesture.customer_id)),
        "order_number": order.number if order is not None else "",
    }
