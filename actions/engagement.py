"""Post-purchase engagement around the other answers: one personal touch after an order
look-up, and a reminder when the holiday sale starts.

The touch is chosen by bot.engagement.touches; what counts as a complaint in a chat (a delayed parcel,
a return/refund/problem flow, a frustrated message, an open ticket) is read here from the
conversation. The once-per-conversation flag is the slot `personal_touch_done`, set only by
actions.

Sale reminders are rows in the store (bot.engagement.reminders), not Rasa's in-memory scheduler: the sale
can be months away. `python -m bot reminders run` fires `EXTERNAL_sale_reminder` into the
conversation through Rasa's external-event API when the sale starts, and
action_send_sale_reminder speaks in the shopper's channel.
"""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import channel, conversation_id, long_date, settings, store
from bot.engagement import holiday_calendar, reminders, touches as engagement
from bot.orders import lookup as orders
from bot.settings import Settings
from bot.store.models import Order
from bot.support import handoff

# The touches about the shopper rather than a product (bot.engagement.touches.TOUCH_KINDS).
PERSONAL_KINDS = ("birthday_offer", "replenish_reminder", "first_order_thanks")
# Thanking someone for a first order they are sending back reads wrong.
AFTER_RETURN_KINDS = ("birthday_offer", "replenish_reminder")

SALE_FAQ_RESPONSE = "utter_faq/sale_dates"


# --- the personal touch ------------------------------------------------------------------------


def in_complaint(session: Session, tracker: Tracker, order: Order) -> bool:
    said = [e for e in tracker.events if e.get("event") == "user"]
    return engagement.is_complaint(
        order_status=order.status,
        purpose=tracker.get_slot("order_purpose"),
        intents=[((e.get("parse_data") or {}).get("intent") or {}).get("name") for e in said],
        shopper_texts=[e.get("text") or "" for e in said],
        return_reason=tracker.get_slot("return_reason"),
        has_open_ticket=handoff.open_ticket_for(session, conversation_id(tracker)) is not None,
    )


def personal_touch_after_lookup(
    session: Session, tracker: Tracker, order: Order, config: Settings
) -> engagement.Touch | None:
    """The touch for the customer of a verified order (after a look-up or a return), or None
    (complaint, already had one, or nothing timely). A product suggestion is not one: the
    order's own add-on (the plain complement) is the better suggestion while that order is
    on screen."""
    context = engagement.TouchContext(
        conversation_id=conversation_id(tracker),
        in_complaint=in_complaint(session, tracker, order),
        already_touched=bool(tracker.get_slot("personal_touch_done")),
    )
    touch = engagement.personal_touch(session, order.customer, context, config.today(), config)
    return touch if touch is not None and touch.kind in PERSONAL_KINDS else None


def utter_personal_touch(dispatcher: CollectingDispatcher, touch: engagement.Touch) -> list[dict]:
    dispatcher.utter_message(response="utter_personal_touch", touch=touch.text)
    return [SlotSet("personal_touch_done", True)]


def personal_touch_after_return(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict]:
    """After a return went through: the customer's touch, if it is no complaint."""
    config = settings()
    with store().session() as s:
        order = orders.verified_order(s, conversation_id(tracker), tracker.get_slot("order_number"))
        touch = personal_touch_after_lookup(s, tracker, order, config) if order is not None else None
    if touch is None or touch.kind not in AFTER_RETURN_KINDS:
        return []
    return utter_personal_touch(dispatcher, touch)


# --- the sale reminder ---------------------------------------------------------------------------


def sale_reminder_offer(tracker: Tracker, faq_response: str | None) -> list[dict]:
    """For action_faq: after the sale-dates answer, offer a reminder while the sale is still
    ahead and this conversation has none yet; not in the middle of a form, which goes on."""
    if faq_response != SALE_FAQ_RESPONSE or (tracker.active_loop or {}).get("name"):
        return []
    config = settings()
    if holiday_calendar.sale_reminder_at(config.today(), config) is None:
        return []
    with store().reading() as s:
        if reminders.has_pending(s, conversation_id(tracker), reminders.SALE_START):
            return []
    return [FollowupAction("utter_offer_sale_reminder")]


class ActionScheduleSaleReminder(Action):
    def name(self) -> str:
        return "action_schedule_sale_reminder"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        latest = tracker.latest_message or {}
        if (latest.get("intent") or {}).get("name") == "ask_sale_reminder" and not reminders.asks_about_the_sale(
            latest.get("text")
        ):
            # A personal reminder ("remind me to call mom"): not ours to keep, but ours is on offer.
            dispatcher.utter_message(response="utter_reminders_only_for_sales")
            return sale_reminder_offer(tracker, SALE_FAQ_RESPONSE)
        with store().session() as s:  # takes the write lock only if the sale is still ahead
            request = reminders.schedule_sale_reminder(s, conversation_id(tracker), channel(tracker), settings())
        if request.status == "sale_on":
            dispatcher.utter_message(response="utter_sale_already_on", end_date=long_date(request.sale.end))
        elif request.status == "already_scheduled":
            dispatcher.utter_message(response="utter_sale_reminder_already_set", start_date=long_date(request.sale.start))
        else:
            dispatcher.utter_message(response="utter_sale_reminder_set", start_date=long_date(request.sale.start))
        return []


class ActionSendSaleReminder(Action):
    """Speaks when bot.engagement.reminders fires a reminder into this conversation, and only then."""

    def name(self) -> str:
        return "action_send_sale_reminder"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        reminder_id = next(tracker.get_latest_entity_values("reminder_id"), None)
        with store().reading() as s:
            reminder = reminders.being_sent(s, conversation_id(tracker), reminder_id)
        if reminder is None:
            return []
        config = settings()
        sale = holiday_calendar.holiday_sale(reminder.due_at.date(), config)
        dispatcher.utter_message(response="utter_sale_reminder", end_date=long_date(sale.end), store_url=config.store_url)
        return []
