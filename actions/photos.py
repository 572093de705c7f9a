"""A shopper's photo (issue #19): the channel stored it (bot/support/photos.py) and passed
EXTERNAL_photo_received in with the photo's id in the message metadata; this action thanks
the shopper. What it says comes from the database, never from a slot or an entity: a shopper
typing the intent, or naming another conversation's photo, is told no photo arrived.
"""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_id, store
from bot.support import photos

RESPONSE_FOR = {
    photos.NOT_RECEIVED: "utter_photo_not_received",
    photos.ADDED_TO_TICKET: "utter_photo_added_to_ticket",
    photos.NOTED_AS_EVIDENCE: "utter_photo_noted_as_evidence",
    photos.RECEIVED: "utter_photo_received",
}
PROBLEM_LOOPS = ("order_lookup_form", "problem_form")


def photo_id_of(tracker: Tracker) -> object:
    """The id the channel put in the message metadata; checked against the database by bot/."""
    metadata = tracker.latest_message.get("metadata") or {}
    return metadata.get(photos.PHOTO_METADATA_KEY) if isinstance(metadata, dict) else None


def reporting_problem(tracker: Tracker) -> bool:
    """A problem report (damaged, wrong or missing item) is under way in this conversation."""
    loop = tracker.active_loop_name
    return loop == "problem_form" or (loop in PROBLEM_LOOPS and tracker.get_slot("order_purpose") == "problem")


class ActionPhotoReceived(Action):
    def name(self) -> str:
        return "action_photo_received"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        with store().reading() as s:
            answer = photos.acknowledgement(s, conversation_id(tracker), photo_id_of(tracker), reporting_problem(tracker))
        dispatcher.utter_message(response=RESPONSE_FOR[answer])
        return []
