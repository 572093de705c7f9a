"""Gift finder: a form that asks only what the shopper's own words left out, then a few ideas
from the catalog and a wishlist to keep them on.

Every gift slot is set here (custom mappings), never from an entity, so a typed
`/gift_advice{...}` cannot fill in an answer. The slots only steer the shopper's own search:
prices, stock and age limits are read from the database for every idea.
"""
from __future__ import annotations

import dataclasses
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.common import conversation_id, money, settings, store
from bot.gifting import gifts, wishlist
from bot.gifting.gift_request import (
    GiftRequest,
    asks_for_more_ideas,
    known_interests,
    parse_gift_request,
    wants_to_stop,
)
from bot.store.models import Product

FORM = "gift_form"
# Form slot -> what bot.gifting.gift_request calls the answer it expects.
QUESTIONS = {
    "gift_recipient": "relationship",
    "gift_age": "age",
    "gift_interests": "interests",
    "gift_budget": "budget",
}
# A message that tells the form nothing new is a failed answer under these intents (say so,
# ask again) and an interruption under any other (the rules answer it, the form resumes).
ANSWER_INTENTS = ("inform", "gift_advice", "affirm", "deny", "nlu_fallback")
# Always an interruption, whatever else the message says: these have their own answer.
INTERRUPTING_INTENTS = ("faq", "human_handoff")
# spaCy's labels that may carry an age or a budget (bot.gifting.gift_request uses them as hints).
HINT_ENTITIES = ("MONEY", "CARDINAL", "DATE")
MAX_ID_DIGITS = 9  # product ids are 32-bit integers


# --- the request as a slot ---------------------------------------------------------------------


def request_to_slot(request: GiftRequest) -> dict[str, Any]:
    data = dataclasses.asdict(request)
    data["budget"] = str(request.budget) if request.budget is not None else None
    return data


def request_from_slot(value: Any) -> GiftRequest | None:
    if not isinstance(value, dict):
        return None
    names = {f.name for f in dataclasses.fields(GiftRequest)}
    data = {key: item for key, item in value.items() if key in names}
    try:
        data["budget"] = Decimal(str(data["budget"])) if data.get("budget") not in (None, "") else None
    except InvalidOperation:
        data["budget"] = None
    return GiftRequest(**data)


def answered(request: GiftRequest, recipient_given: bool) -> dict[str, str | None]:
    """The form's slots: what is known, shown as a shopper would say it; None = still to ask."""
    if request.relationship:
        recipient = request.relationship
    elif request.age is not None:
        recipient = f"{request.age}-year-old"
    else:
        recipient = "someone" if recipient_given else None
    if request.age is not None:
        age = str(request.age)
    else:
        age = "adult" if request.adult else None
    if request.interests:
        interests = ", ".join(request.interests)
    else:
        interests = "no idea" if request.interests_unknown else None
    if request.budget is not None:
        budget = str(request.budget)
    else:
        budget = "no limit" if request.budget_unknown else None
    return {"gift_recipient": recipient, "gift_age": age, "gift_interests": interests, "gift_budget": budget}


def recipient_phrase(request: GiftRequest) -> str:
    if request.relationship:
        return f"your {request.relationship}"
    if request.age == 0:
        return "a baby"
    if request.age is not None:
        return f"a {request.age}-year-old"
    return "them"


# --- the form ------------------------------------------------------------------------------------


def _entities(tracker: Tracker) -> list[dict]:
    return [e for e in (tracker.latest_message or {}).get("entities") or [] if isinstance(e, dict)]


def parse_latest(tracker: Tracker, expecting: str | None) -> GiftRequest:
    """The latest message as a gift request: the catalog's interests plus any interest the NLU
    model spotted are the vocabulary; spaCy's numbers and amounts are hints."""
    entities = _entities(tracker)
    with store().reading() as s:
        vocabulary = known_interests(s)
    vocabulary |= {
        str(e["value"]).lower() for e in entities if e.get("entity") == "interest" and e.get("value")
    }
    hints = [e for e in entities if str(e.get("entity", "")).upper() in HINT_ENTITIES]
    text = (tracker.latest_message or {}).get("text") or ""
    return parse_gift_request(text, vocabulary, hints=hints, expecting=expecting)


def slot_events(request: GiftRequest, recipient_given: bool) -> list[dict]:
    events = [SlotSet("gift_request", request_to_slot(request))]
    return events + [SlotSet(slot, value) for slot, value in answered(request, recipient_given).items()]


class ValidateGiftForm(FormValidationAction):
    """Fills every gift slot from each message: the first message may answer all of them, a later
    one whatever it mentions, and a bare "10" or "no idea" answers the question just asked."""

    def name(self) -> str:
        return "validate_gift_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        requested = tracker.get_slot("requested_slot")
        # On activation Rasa already shows the form as active, but nothing has been asked yet.
        if tracker.active_loop_name == FORM and requested in QUESTIONS:
            return self.answer(dispatcher, tracker, requested)
        return self.start(tracker)

    def start(self, tracker: Tracker) -> list[dict]:
        """The message that opened the gift finder: a new search, or "any other ideas?" about
        the last one (which keeps the ideas already shown out of the next ones)."""
        text = (tracker.latest_message or {}).get("text") or ""
        parsed = parse_latest(tracker, None)
        previous = request_from_slot(tracker.get_slot("gift_request"))
        if previous is not None and not previous.missing and parsed == GiftRequest() and asks_for_more_ideas(text):
            return slot_events(previous, recipient_given=True)
        return [SlotSet("gift_shown", None)] + slot_events(parsed, recipient_given=False)

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str) -> list[dict]:
        """A message while `requested` is open. Returning no events hands it to the rules (an
        interruption); the form then asks its question again."""
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        text = message.get("text") or ""
        if intent in INTERRUPTING_INTENTS:
            return []
        before = request_from_slot(tracker.get_slot("gift_request")) or GiftRequest()
        parsed = parse_latest(tracker, QUESTIONS[requested])
        request = before.merged(parsed)
        if intent not in ANSWER_INTENTS:
            # Another intent is an answer only if it plainly says something about the gift
            # ("he loves football" read as out_of_scope) or is a "no idea" to the question
            # asked; a bare number or an unknown word is not.
            strict = before.merged(parse_latest(tracker, None))
            no_idea = (requested == "gift_interests" and parsed.interests_unknown) or (
                requested == "gift_budget" and parsed.budget_unknown
            )
            request = request if strict == before and no_idea else strict
        recipient_given = tracker.get_slot("gift_recipient") is not None
        if request != before:
            return slot_events(request, recipient_given)

        if wants_to_stop(text):
            dispatcher.utter_message(response="utter_gift_stopped")
            return [SlotSet(requested, None), SlotSet("requested_slot", None)]
        if intent not in ANSWER_INTENTS:
            return []
        if intent == "deny" and requested in ("gift_interests", "gift_budget"):
            # "nope" to "what are they into?" / "how much?": nothing to go on, ask no more
            field = "interests_unknown" if requested == "gift_interests" else "budget_unknown"
            return slot_events(dataclasses.replace(request, **{field: True}), recipient_given)
        if requested == "gift_recipient" and text.strip() and intent != "deny":
            return slot_events(request, recipient_given=True)  # "someone at work": age comes next
        dispatcher.utter_message(response="utter_gift_unclear")
        return [SlotSet(requested, None)]


# --- ideas and the wishlist --------------------------------------------------------------------


def button_title(domain, response: str, **values: Any) -> str:
    return domain["responses"][response][0]["text"].format(**values)


def save_payload(product_id: int) -> str:
    # Its own entity: `product` also fills the return form's item, and a saved idea is no
    # item the shopper wants to return.
    return "/inform" + json.dumps({"product_id": str(product_id)})


class ActionRecommendGifts(Action):
    """Up to three ideas with price, link and a one-line reason. Run again it shows the next
    ones; when nothing fits it says why and offers the closest."""

    def name(self) -> str:
        return "action_recommend_gifts"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        request = request_from_slot(tracker.get_slot("gift_request"))
        if request is None or request.missing:
            return []  # the shopper stopped the gift finder before it knew enough
        shown = [int(i) for i in tracker.get_slot("gift_shown") or [] if str(i).isdigit()]
        with store().reading() as s:
            recommendation = gifts.recommend(s, request, settings(), exclude_ids=shown)

        if recommendation.message:
            dispatcher.utter_message(response="utter_gift_explanation", explanation=recommendation.message)
        elif shown:
            dispatcher.utter_message(response="utter_gift_more_ideas_intro")
        else:
            dispatcher.utter_message(response="utter_gift_ideas_intro", recipient=recipient_phrase(request))
        for idea in recommendation.ideas:
            dispatcher.utter_message(
                response="utter_gift_idea", reason=idea.reason, price=money(idea.price), url=idea.url
            )
        if recommendation.ideas:
            buttons = [
                {"title": button_title(domain, "utter_gift_button_save", product_name=idea.name),
                 "payload": save_payload(idea.product_id)}
                for idea in recommendation.ideas
            ]
            buttons += [
                {"title": button_title(domain, "utter_gift_button_more"), "payload": "/affirm"},
                {"title": button_title(domain, "utter_gift_button_done"), "payload": "/deny"},
            ]
            dispatcher.utter_message(response="utter_gift_follow_up", buttons=buttons)
        return [SlotSet("gift_shown", list(recommendation.shown_ids))]


def chosen_product_id(tracker: Tracker) -> int | None:
    """The product the shopper picked: a button's id, or the name of an idea they were shown
    ("save the watercolor set")."""
    entities = _entities(tracker)
    for e in entities:
        if e.get("entity") == "product_id":
            value = str(e.get("value") or "").strip()
            # A typed payload may hold anything; ids beyond the column's range are no product.
            return int(value) if value.isdigit() and len(value) <= MAX_ID_DIGITS else None
    values = [str(e["value"]).strip() for e in entities if e.get("entity") == "product" and e.get("value")]
    shown = [int(i) for i in tracker.get_slot("gift_shown") or [] if str(i).isdigit()]
    if not values or not shown:
        return None
    with store().reading() as s:
        names = dict(s.execute(select(Product.id, Product.name).where(Product.id.in_(shown))).all())
    for value in values:
        words = value.lower().split()
        matches = [pid for pid, name in names.items() if all(word in name.lower() for word in words)]
        if len(matches) == 1:
            return matches[0]
    return None


class ActionSaveGift(Action):
    """Saves an idea to the conversation's wishlist (the product must exist) and gives the link
    that shares the whole list."""

    def name(self) -> str:
        return "action_save_gift"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        product_id = chosen_product_id(tracker)
        if product_id is None:
            dispatcher.utter_message(response="utter_gift_unknown_product")
            return []
        try:
            with store().session() as s:
                result = wishlist.add(s, conversation_id(tracker), product_id, settings())
        except LookupError:
            dispatcher.utter_message(response="utter_gift_unknown_product")
            return []
        dispatcher.utter_message(
            response="utter_gift_saved" if result.added else "utter_gift_already_saved",
            product_name=result.entry.name,
            price=money(result.entry.price),
            share_link=result.share_link,
        )
        return []
