"""CSAT actions: asked once, a rating starts the comment form, the comment is kept."""
from __future__ import annotations

from actions.csat import COMMENT_FORM, ActionAskCsat, ActionRateConversation, ActionSaveCsatComment
from bot.support import csat
from tests.actions.conftest import make_tracker, response_names, run_action

CHAT = "web:" + "e" * 32


def rating(value: str):
    return make_tracker(CHAT, intent="rate_conversation", text="/rate_conversation",
                        entities=[{"entity": "csat_score", "value": value}])


def test_the_question_is_asked_once(action_store, domain):
    _, first = run_action(ActionAskCsat(), make_tracker(CHAT, intent="goodbye"), domain)
    _, second = run_action(ActionAskCsat(), make_tracker(CHAT, intent="goodbye"), domain)
    assert response_names(first) == ["utter_ask_csat"] and second == []


def test_a_rating_starts_the_comment_form_and_the_comment_is_kept(action_store, domain):
    run_action(ActionAskCsat(), make_tracker(CHAT, intent="goodbye"), domain)
    events, messages = run_action(ActionRateConversation(), rating("4"), domain)
    assert messages == [] and events == [{"event": "followup", "name": COMMENT_FORM, "timestamp": None}]
    _, said = run_action(ActionSaveCsatComment(), make_tracker(CHAT, slots={"csat_comment": "quick, thanks"}), domain)
    assert response_names(said) == ["utter_csat_thanks"]
    with action_store.session() as s:
        survey = csat.survey_of(s, CHAT)
        assert (survey.score, survey.comment, survey.handled_by) == (4, "quick, thanks", csat.BOT)


def test_an_unasked_rating_stores_nothing(action_store, domain):
    events, messages = run_action(ActionRateConversation(), rating("5"), domain)
    assert events == [] and response_names(messages) == ["utter_csat_not_asked"]
    with action_store.session() as s:
        assert csat.survey_of(s, CHAT) is None
