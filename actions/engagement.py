"""Post-purchase engagement around the other answers: one personal touch after an order
look-up, and a reminder when the holiday sale starts.

The touch is bot.engagement's choice; what counts as a complaint in a chat (a delayed parcel,
a return/refund/problem flow, a frustrated message, an open ticket) is read here from the
conversation. The once-per-conversation flag is the slot `personal_touch_done`, set only by
actions.

Sale reminders use Rasa's ReminderScheduled: Rasa fires the `EXTERNAL_sale_reminder` intent
into the conversation at the sale's first morning and action_send_sale_reminder speaks. Rasa
keeps scheduled reminders in memory and drops one whose conversation started a new session
in the meantime, so they suit a sale days away only while the Rasa server and the session
live that long.
"""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, ReminderScheduled, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import conversation_id, long_date, settings
from bot import engagement, handoff, holiday_calendar
from bot.frustration import is_frustrated
from bot.models import Order
from bot.settings import Settings

# A conversation that has been through any of these is a complaint: no touches in it.
COMPLAINT_INTENTS = (
    "return_item", "exchange_item", "request_refund", "refund_status", "report_problem", "human_handoff",
)
COMPLAINT_PURPOSES = ("return", "exchange", "refund", "refund_status", "problem")
COMPLAINT_ORDER_STATUSES = ("delayed",)

# The touches about the shopper rather than a product (bot.engagement.TOUCH_KINDS).
PERSONAL_KINDS = ("birthday_offer", "replenish_reminder", "first_order_thanks")

SALE_FAQ_RESPONSE = "utter_faq/sale_dates"
SALE_REMINDER_INTENT = "EXTERNAL_sale_reminder"


# --- the personal touch ------------------------------------------------------------------------


def in_complaint(session: Session, tracker: Tracker, order: Order) -> bool:
    if order.status in COMPLAINT_ORDER_STATUSES:
        return True
    if tracker.get_slot("order_purpose") in COMPLAINT_PURPOSES:
        return True
    for event in tracker.events:
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent in COMPLAINT_INTENTS or is_frustrated(event.get("text")):
            return True
    return handoff.open_ticket_for(session, conversation_id(tracker)) is not None


def personal_touch_after_lookup(
    session: Session, tracker: Tracker, order: Order, config: Settings
) -> engagement.Touch | None:
    """The touch for the customer of a verified order, or None (complaint, already had one,
    or nothing timely). A product suggestion is not one: the order's own add-on (the plain
    complement) is the better suggestion while that order is on screen."""
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


# --- the sale reminder ---------------------------------------------------------------------------


def sale_reminder_offer(tracker: Tracker, faq_response: str | None) -> list[dict]:
    """For action_faq: after the sale-dates answer, offer a reminder while the sale is still ahead."""
    if faq_response != SALE_FAQ_RESPONSE or tracker.get_slot("sale_reminder_at"):
        return []
    config = settings()
    if holiday_calendar.sale_reminder_at(config.today(), config) is None:
        return []
    return [FollowupAction("utter_offer_sale_reminder")]


class ActionScheduleSaleReminder(Action):
    def name(self) -> str:
        return "action_schedule_sale_reminder"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        config = settings()
        today = config.today()
        sale = holiday_calendar.holiday_sale(today, config)
        at = holiday_calendar.sale_reminder_at(today, config)
        if at is None:
            dispatcher.utter_message(response="utter_sale_already_on", end_date=long_date(sale.end))
            return []
        if tracker.get_slot("sale_reminder_at") == at.isoformat():
            dispatcher.utter_message(response="utter_sale_reminder_already_set", start_date=long_date(sale.start))
            return []
        dispatcher.utter_message(response="utter_sale_reminder_set", start_date=long_date(sale.start))
        return [
            # Rasa names the scheduler job after the reminder: one name per conversation, so
            # asking twice keeps one reminder and two shoppers never replace each other's.
            ReminderScheduled(
                SALE_REMINDER_INTENT,
                at,
                name=f"sale_reminder_{conversation_id(tracker)}",
                kill_on_user_message=False,
            ),
            SlotSet("sale_reminder_at", at.isoformat()),
        ]


class ActionSendSaleReminder(Action):
    """Runs when the reminder fires; says nothing if the dates moved and no sale is on."""

    def name(self) -> str:
        return "action_send_sale_reminder"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        config = settings()
        sale = holiday_calendar.holiday_sale(config.today(), config)
        if sale.status == "on":
            dispatcher.utter_message(
                response="utter_sale_reminder", end_date=long_date(sale.end), store_url=config.store_url
            )
        return [SlotSet("sale_reminder_at", None)]
