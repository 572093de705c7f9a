"""What an agent decided, told to the shopper in their chat.

The support console (or `python -m bot handoffs approve/deny`) commits the decision and a
notice in bot/, then asks Rasa to execute this action in the conversation, paused or not.
"""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_id, money, settings, store
from actions.refunds import method_text
from bot.support import shopper_notices

_RESPONSES = {
    shopper_notices.REFUND_APPROVED: "utter_agent_refund_approved",
    shopper_notices.REFUND_DENIED: "utter_agent_refund_denied",
}


class ActionTellAgentDecision(Action):
    def name(self) -> str:
        return shopper_notices.TELL_ACTION

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        with store().session() as s:
            notices = shopper_notices.take_undelivered(s, conversation_id(tracker), settings().now())
        for notice in notices:
            dispatcher.utter_message(
                response=_RESPONSES[notice.kind],
                amount=money(notice.amount) if notice.amount is not None else "",
                order_number=notice.order_number or "",
                method_text=method_text(domain, notice.refund_method),
                note=notice.note,
            )
        return []
