"""FAQ answers: the ResponseSelector picks the question, the store's calendar fills the dates."""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import settings
from actions.engagement import sale_reminder_offer
from bot.engagement import holiday_calendar


def selected_faq_response(tracker: Tracker) -> str | None:
    """The `utter_faq/<key>` the ResponseSelector chose for the latest message."""
    selector = (tracker.latest_message or {}).get("response_selector") or {}
    chosen = (selector.get("faq") or selector.get("default") or {}).get("response") or {}
    return chosen.get("utter_action")


class ActionFaq(Action):
    def name(self) -> str:
        return "action_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        response = selected_faq_response(tracker)
        if not response or response not in domain.get("responses", {}):
            dispatcher.utter_message(response="utter_default")
            return []
        config = settings()
        dispatcher.utter_message(response=response, **holiday_calendar.faq_values(config.today(), config))
        return sale_reminder_offer(tracker, response)
