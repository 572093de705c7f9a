"""CSAT (issue #18): "how did we do?" once per conversation, the rating and an optional comment.
What counts (asked once, 1-5, a rating only as the answer) is bot.support.csat's."""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_id, settings, store
from bot.support import csat

COMMENT_FORM = "csat_comment_form"


class ActionAskCsat(Action):
    """Asks for a rating the first time only; later goodbyes and resolves say nothing more."""

    def name(self) -> str:
        return "action_ask_csat"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        with store().session() as s:
            first_time = csat.ask(s, conversation_id(tracker), settings().now())
        if first_time:
            dispatcher.utter_message(response="utter_ask_csat")
        return []


class ActionRateConversation(Action):
    def name(self) -> str:
        return "action_rate_conversation"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        value = next(tracker.get_latest_entity_values("csat_score"), None) or tracker.latest_message.get("text")
        with store().session() as s:
            outcome = csat.rate(s, conversation_id(tracker), value, settings().now())
        if outcome == "rated":
            return [FollowupAction(COMMENT_FORM)]  # the form asks for the optional comment
        if outcome == "invalid":
            dispatcher.utter_message(response="utter_csat_invalid")
        elif outcome == "already_rated":
            dispatcher.utter_message(response="utter_csat_already_rated")
        else:
            dispatcher.utter_message(response="utter_csat_not_asked")
        return []


class ActionSaveCsatComment(Action):
    def name(self) -> str:
        return "action_save_csat_comment"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        with store().session() as s:
            csat.add_comment(s, conversation_id(tracker), tracker.get_slot("csat_comment"), settings().now())
        dispatcher.utter_message(response="utter_csat_thanks")
        return [SlotSet("csat_comment", None)]
