"""Handing a conversation to a person, and asking before guessing.

Once a ticket is open the conversation is paused: Rasa keeps storing what the shopper writes
(the agent reads it) but the bot stays silent until an agent resolves the ticket, which
resumes the conversation through Rasa's HTTP API (bot/support/handoff.py, bot/rasa_link/rasa_api.py).
"""
from __future__ import annotations

from decimal import Decimal

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import IntegrityError

from actions.common import conversation_id, conversation_of, settings, store
from bot.conversation import Conversation
from bot.orders import lookup as orders
from bot.support import handoff, wait_targets
from bot.support.frustration import is_frustrated

# Intents a clarifying question may offer; each has an `utter_topic_<intent>` title in domain.yml.
CLARIFIABLE_INTENTS = (
    "track_order", "cancel_order", "return_item", "exchange_item", "request_refund",
    "refund_status", "report_problem", "gift_advice", "loyalty_status", "faq", "human_handoff",
)


def hand_over(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    *,
    amount: Decimal | None = None,
    refund_id: int | None = None,
    order_id: int | None = None,
) -> list[dict]:
    """Opens (or joins) the conversation's ticket, tells the shopper the wait, pauses the bot."""
    last_text = (tracker.latest_message or {}).get("text") or ""
    summary = f"{reason.replace('_', ' ')}: \"{last_text[:200]}\""
    ticket_id, created, position, wait = _open_ticket(
        conversation_of(tracker), reason, summary, amount=amount, refund_id=refund_id, order_id=order_id
    )
    if not created:
        dispatcher.utter_message(response="utter_handoff_already_open", ticket_id=ticket_id)
    elif wait.opens is not None:
        dispatcher.utter_message(response="utter_handoff_opened_after_hours", ticket_id=ticket_id,
                                 opens=wait.opens.when)
    else:
        ahead = position - 1
        dispatcher.utter_message(
            response="utter_handoff_opened",
            ticket_id=ticket_id,
            wait_minutes=max(wait.minutes, 1),
            position_text="you're next." if ahead <= 0 else f"{ahead} shopper(s) ahead of you.",
        )
    return [ConversationPaused()]


def _open_ticket(
    conversation: Conversation, reason: str, summary: str, *, amount: Decimal | None, refund_id: int | None,
    order_id: int | None,
) -> tuple[int, bool, int, wait_targets.WaitEstimate]:
    """One unit of work: the ticket (about the conversation's latest verified order) and its
    place in the queue; (ticket id, created, position, wait)."""
    config = settings()
    for attempt in range(2):
        try:
            with store().session() as s:
                order = orders.latest_verified_order(s, conversation.id)
                ticket, created = handoff.open_ticket(
                    s, conversation, reason, summary, settings=config, amount=amount, refund_id=refund_id,
                    order_id=order_id or (order.id if order else None),
                    customer_id=order.customer_id if order else None,
                )
                return (ticket.id, created, handoff.queue_position(s, ticket),
                        handoff.estimated_wait(s, ticket, config))
        except IntegrityError:
            # A racing insert can surface at commit instead of at the flush; the retry sees it.
            if attempt:
                raise
    raise AssertionError("unreachable")


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        text = (tracker.latest_message or {}).get("text")
        reason = "frustration" if is_frustrated(text) else "asked_for_human"
        return hand_over(dispatcher, tracker, reason)


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the shopper's latest messages in a row the bot did not understand."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


class ActionClarify(Action):
    """Low confidence: offer the two likeliest topics as buttons; the second miss in a row
    goes to a person instead of a guess."""

    def name(self) -> str:
        return "action_clarify"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        if is_frustrated((tracker.latest_message or {}).get("text")):
            return hand_over(dispatcher, tracker, "frustration")
        if consecutive_fallbacks(tracker) >= 2:
            return hand_over(dispatcher, tracker, "repeated_fallback")
        ranking = (tracker.latest_message or {}).get("intent_ranking") or []
        candidates = [r["name"] for r in ranking if r.get("name") in CLARIFIABLE_INTENTS][:2]
        responses = domain.get("responses", {})
        buttons = [
            {"title": responses[f"utter_topic_{intent}"][0]["text"], "payload": f"/{intent}"}
            for intent in candidates
            if f"utter_topic_{intent}" in responses
        ]
        if not any(b["payload"] == "/human_handoff" for b in buttons):
            buttons.append({"title": responses["utter_topic_human_handoff"][0]["text"],
                            "payload": "/human_handoff"})
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        return []


class ActionSessionStart(Action):
    """Rasa's session start, plus: a conversation with an open ticket stays paused.

    A new session begins after `session_expiration_time` of silence, and the pause event of
    the old session is not part of the new one, so without this a shopper who came back after
    two hours would get the bot again while an agent still has their ticket.
    A new session (also after /restart) ends the conversation's order verifications (issue #15).
    """

    def name(self) -> str:
        return "action_session_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        events = [SessionStarted()]
        if domain.get("session_config", {}).get("carry_over_slots_to_new_session", True):
            events += [SlotSet(name, value) for name, value in tracker.slots.items() if value is not None]
        events.append(ActionExecuted("action_listen"))
        with store().session() as s:
            orders.forget_verifications(s, conversation_id(tracker))
        with store().reading() as s:
            if handoff.open_ticket_for(s, conversation_id(tracker)) is not None:
                events.append(ConversationPaused())
        return events
