"""Order look-up: the verification form, tracking answers and cancellation."""
from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import LooksUpOncePerCall, conversation_id, long_date, money, once_per_call, settings, store
from actions.engagement import personal_touch_after_lookup, utter_personal_touch
from bot.engagement.touches import Touch
from bot.orders import lookup as orders, verification_throttle

VERIFICATION_SLOTS = ("order_number", "order_email")

def conversation_is_locked(tracker: Tracker) -> bool:
    """Out of verification attempts or throttled: a read, so it never takes the write lock."""
    with store().reading() as s:
        return orders.is_locked(s, conversation_id(tracker), settings())


class ValidateOrderLookupForm(LooksUpOncePerCall, FormValidationAction):
    """Asks for order number and email, then lets bot/ check the pair against the database."""

    def name(self) -> str:
        return "validate_order_lookup_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        # Asked two or three times a call: the database answers once (LooksUpOncePerCall).
        if once_per_call(("locked", conversation_id(tracker)), lambda: conversation_is_locked(tracker)):
            return []
        return domain_slots

    # The shopper's own words are read too, so a bare "104217" or an email typed without any
    # recognised entity still fills the slot; bot/ decides what counts as a number or an email.
    async def extract_order_number(self, dispatcher, tracker, domain) -> dict[str, Any]:
        number = order_number_in(tracker)
        return {"order_number": number} if number and number != tracker.get_slot("order_number") else {}

    async def extract_order_email(self, dispatcher, tracker, domain) -> dict[str, Any]:
        email = orders.parse_email(tracker.latest_message.get("text"))
        return {"order_email": email} if email and email != tracker.get_slot("order_email") else {}

    def validate_order_number(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        number = orders.parse_order_number(value) or order_number_in(tracker)
        if number is None:
            dispatcher.utter_message(response="utter_invalid_order_number")
        return {"order_number": number}

    def validate_order_email(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        email = orders.parse_email(value) or orders.parse_email(tracker.latest_message.get("text"))
        if email is None:
            dispatcher.utter_message(response="utter_invalid_email")
        return {"order_email": email}

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        events = await super().run(dispatcher, tracker, domain)
        changed = {e["name"] for e in events if e.get("event") == "slot"}
        number, email = (tracker.get_slot(slot) for slot in VERIFICATION_SLOTS)
        if not (changed & set(VERIFICATION_SLOTS)) or not (number and email):
            return events
        # Its own writing unit of work with nothing else in it: a failed check is an answer, not an
        # error, so the failure it records for the guessing throttle is committed.
        with store().session() as s:
            result = orders.verify(
                s, conversation_id(tracker), number, email, settings(), client=verification_client(tracker)
            )
        if result.outcome in ("mismatch", "throttled"):
            # A throttled check looks exactly like a mismatch; its slots stay filled so the form
            # ends (the conversation now counts as locked) and the shopper is offered a person.
            dispatcher.utter_message(response="utter_order_mismatch", attempts_left=result.attempts_left)
        if result.outcome == "mismatch":
            events += [SlotSet(slot, None) for slot in VERIFICATION_SLOTS]
        return events


def verification_client(tracker: Tracker) -> str:
    """Who is asking, for the order-guessing throttle: the client (an address) that the channel
    put in the message metadata, server-side (channels/identity.py); bot/ decides which count."""
    metadata = tracker.latest_message.get("metadata") or {}
    client = metadata.get("client") if isinstance(metadata, dict) else None
    return verification_throttle.client_bucket(tracker.get_latest_input_channel(), client)


def utter_not_verified(dispatcher: CollectingDispatcher, tracker: Tracker | None = None) -> list[dict]:
    """The form ended without proof of ownership: a locked or throttled conversation, or (given
    the tracker) one whose verification expired, which is simply asked again.
    The offer of a person is its own action so the shopper's "yes" can follow it in rules."""
    cleared = [SlotSet(slot, None) for slot in VERIFICATION_SLOTS]
    if tracker is not None:
        cid = conversation_id(tracker)
        with store().reading() as s:
            expired = orders.verification_expired(s, cid, tracker.get_slot("order_number"), settings())
            throttled = not expired and verification_throttle.was_throttled(s, cid)
        if expired:
            dispatcher.utter_message(response="utter_verification_expired")
            return cleared + [FollowupAction("order_lookup_form")]
        if throttled:
            return cleared + [FollowupAction("utter_offer_human")]
    dispatcher.utter_message(response="utter_verification_locked")
    return cleared + [FollowupAction("utter_offer_human")]


class ActionShowOrder(Action):
    def name(self) -> str:
        return "action_show_order"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        config = settings()
        with store().session() as s:
            order = orders.verified_order(s, conversation_id(tracker), tracker.get_slot("order_number"), config)
            if order is not None:
                info = orders.tracking(s, order, config)
                touch = personal_touch_after_lookup(s, tracker, order, config)
        if order is None:  # outside the unit of work: the reply looks at the database again
            return utter_not_verified(dispatcher, tracker)
        return utter_tracking(dispatcher, info, touch)


def utter_tracking(
    dispatcher: CollectingDispatcher, info: orders.Tracking, touch: Touch | None = None
) -> list[dict]:
    """The order's answer; a personal touch, when one applies, takes the complement's place."""
    common = dict(
        order_number=info.order_number,
        items=info.items,
        status_text=info.status_text,
        carrier=info.carrier,
        tracking_number=info.tracking_number,
        tracking_url=info.tracking_url,
        shipping_method=info.shipping_method,
        eta_line=f"Estimated delivery: {long_date(info.eta)}." if info.eta else "",
    )
    if info.status == "processing":
        dispatcher.utter_message(response="utter_order_processing", **common)
    elif info.status == "delivered":
        dispatcher.utter_message(response="utter_order_delivered", delivered_on=long_date(info.delivered_on), **common)
    elif info.status == "delayed":
        dispatcher.utter_message(response="utter_order_delayed", delay_reason=info.delay_reason or "a delay in transit", **common)
    elif info.status == "cancelled":
        dispatcher.utter_message(response="utter_order_cancelled", **common)
    elif info.status == "returned":
        dispatcher.utter_message(response="utter_order_returned", **common)
    else:
        dispatcher.utter_message(response="utter_order_status", **common)

    if info.arrives_by_christmas is not None:
        response = "utter_arrives_by_christmas" if info.arrives_by_christmas else "utter_misses_christmas"
        dispatcher.utter_message(response=response, christmas_date=long_date(info.christmas_date))
    if info.status == "delayed":
        follow_up = max(info.eta or settings().today(), settings().today()) + dt.timedelta(days=2)
        dispatcher.utter_message(response="utter_order_delayed_next_step", follow_up_date=long_date(follow_up))
    elif touch is not None:
        return utter_personal_touch(dispatcher, touch)
    elif info.suggestion is not None:
        dispatcher.utter_message(
            response="utter_complement",
            product_name=info.suggestion.name,
            price=money(info.suggestion.price),
            product_url=info.suggestion.url,
        )
    return []


class ActionCancelOrder(Action):
    def name(self) -> str:
        return "action_cancel_order"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        with store().session() as s:
            result = orders.cancel(s, conversation_id(tracker), tracker.get_slot("order_number"), settings())
        if result.outcome == "not_verified":
            return utter_not_verified(dispatcher, tracker)
        if result.outcome == "cancelled":
            dispatcher.utter_message(
                response="utter_cancel_done", order_number=result.order_number, amount=money(result.amount)
            )
        elif result.outcome == "already_cancelled":
            dispatcher.utter_message(response="utter_cancel_already_cancelled", order_number=result.order_number)
        elif result.outcome == "already_shipped":
            dispatcher.utter_message(response="utter_cancel_already_shipped", order_number=result.order_number)
        else:
            dispatcher.utter_message(
                response="utter_cancel_not_possible",
                order_number=result.order_number,
                status_text=orders.STATUS_TEXT[result.status],
            )
        return []


def order_number_in(tracker: Tracker) -> str | None:
    """The order number in the shopper's latest message; a bare "5301" counts only as the answer
    to the form's question (elsewhere it is more often a year)."""
    text = tracker.latest_message.get("text")
    if tracker.get_slot("requested_slot") == "order_number":
        return orders.parse_order_number_reply(text)
    return orders.parse_order_number(text)
