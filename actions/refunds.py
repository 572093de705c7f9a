"""Refund requests and refund status: what the shopper is told about money going back.

The amounts always come from bot/ (bot.money.refunds, through bot/returns/); nothing here reads an
amount from a slot or an entity, and there is no amount slot to read.
"""
from __future__ import annotations

import datetime as dt

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_id, long_date, money, settings, store
from actions.orders import utter_not_verified
from bot.money import refunds
from bot.orders import lookup as orders


def domain_text(domain: dict, response: str, **values) -> str:
    """A response's text with its placeholders filled, for pieces that go inside a message
    (list lines, button titles) so the wording still lives in domain.yml."""
    return domain["responses"][response][0]["text"].format(**values)


def a_date(day: dt.date | dt.datetime) -> str:
    """"Tuesday, December 2", with the year when it is not this year's."""
    if isinstance(day, dt.datetime):
        day = day.date()
    text = long_date(day)
    return text if day.year == settings().today().year else f"{text}, {day.year}"


def method_text(domain: dict, method: str | None) -> str:
    return domain_text(domain, "utter_method_store_credit" if method == "store_credit" else "utter_method_original_payment")


def tell_review(dispatcher: CollectingDispatcher, domain: dict, refund: refunds.RefundOutcome) -> list[dict]:
    """Over the bot's limit: bot/ already opened the ticket; say who decides and how long, then
    go quiet until an agent resolves the ticket (`python -m bot handoffs resolve N`)."""
    position = refund.queue_position or 1
    position_text = (
        domain_text(domain, "utter_queue_next") if position <= 1
        else domain_text(domain, "utter_queue_ahead", ahead=position - 1)
    )
    if refund.desk_opens is not None:
        dispatcher.utter_message(response="utter_refund_needs_review_after_hours", amount=money(refund.amount),
                                 ticket_id=refund.ticket_id, opens=refund.desk_opens)
        return [ConversationPaused()]
    dispatcher.utter_message(
        response="utter_refund_needs_review",
        amount=money(refund.amount),
        ticket_id=refund.ticket_id,
        wait_minutes=max(refund.wait_minutes or 0, 1),
        position_text=position_text,
    )
    return [ConversationPaused()]


_ALREADY = {
    "issued": "utter_refund_already_issued",
    "approved": "utter_refund_already_approved",
    "pending_review": "utter_refund_already_pending",
    "denied": "utter_refund_already_denied",
}


def tell_refund(
    dispatcher: CollectingDispatcher,
    domain: dict,
    refund: refunds.RefundOutcome | None,
    credit_to: str | None = None,
) -> list[dict]:
    """What happened to the money of a return or problem; ConversationPaused when a person
    has to approve it."""
    if refund is None:
        return []
    if refund.status == "nothing_to_refund":
        dispatcher.utter_message(response="utter_refund_nothing_left")
        return []
    values = dict(amount=money(refund.amount), method_text=method_text(domain, refund.method))
    if not refund.created:
        dispatcher.utter_message(response=_ALREADY[refund.status], **values)
        return []
    if refund.status == "pending_review":
        return tell_review(dispatcher, domain, refund)
    if refund.method == "store_credit" and credit_to == "recipient":
        dispatcher.utter_message(response="utter_refund_store_credit_for_recipient", **values)
    else:
        dispatcher.utter_message(response="utter_refund_issued", **values)
    return []


class ActionRefundRoute(Action):
    """A refund is never an amount the shopper names: it is what a return or a problem report
    gives back, so ask which of the two this is."""

    def name(self) -> str:
        return "action_refund_route"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        with store().session() as s:
            order = orders.verified_order(s, conversation_id(tracker), tracker.get_slot("order_number"))
            verified = order is not None
        if not verified:
            return utter_not_verified(dispatcher, tracker)
        dispatcher.utter_message(response="utter_ask_refund_route")
        return []


def refund_label(domain: dict, view: refunds.RefundView) -> str:
    if view.rma:
        return domain_text(domain, "utter_refund_label_return", rma=view.rma)
    if view.reason == "late_delivery_compensation":
        return domain_text(domain, "utter_refund_label_late")
    if view.reason == "order_cancelled":
        return domain_text(domain, "utter_refund_label_cancelled")
    return domain_text(domain, "utter_refund_label_other")


class ActionRefundStatus(Action):
    def name(self) -> str:
        return "action_refund_status"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        with store().session() as s:
            order = orders.verified_order(s, conversation_id(tracker), tracker.get_slot("order_number"))
            if order is not None:
                number = order.number
                views = refunds.refund_status(s, order)
        if order is None:  # said outside the unit of work: it reads the store itself
            return utter_not_verified(dispatcher, tracker)
        if not views:
            dispatcher.utter_message(response="utter_refund_status_none", order_number=number)
            return []
        for view in views:
            day = view.created_at if view.status == "pending_review" else (view.decided_at or view.created_at)
            dispatcher.utter_message(
                response=f"utter_refund_status_{view.status}",
                what=refund_label(domain, view),
                amount=money(view.amount),
                date=a_date(day),
                method_text=method_text(domain, view.method),
            )
        return []
