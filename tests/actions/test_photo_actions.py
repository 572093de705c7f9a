"""action_photo_received (issue #19): the bot thanks for a photo the channel stored in this very
conversation, whatever the message's slots or entities say; a typed /EXTERNAL_photo_received,
or one naming another conversation's photo, is told no photo arrived. And a damaged-item report
asks for a photo, once, only when none was sent."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from PIL import Image
from rasa_sdk.executor import CollectingDispatcher

from actions.photos import RESPONSE_FOR, ActionPhotoReceived
from actions.returns import ValidateProblemForm
from bot.conversation import Conversation
from bot.support import handoff, photos
from tests.actions.conftest import make_tracker, response_names, run_action
from tests.replies import sent_payloads

ROOT = Path(__file__).resolve().parents[2]


def png(seed: int = 0) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (seed, 90, 160)).save(out, "PNG")
    return out.getvalue()


def kept_photo(store, settings, conversation_id: str, seed: int = 0) -> int:
    with store.session() as s:
        return photos.accept(s, conversation_id, "socketio", png(seed), settings, settings.now()).photo_id


def photo_message(conversation_id: str, photo_id=None, *, slots=None, active_loop=None, entities=None):
    """/EXTERNAL_photo_received as a channel passes it (the id in the metadata) or, without an
    id, as a shopper types it."""
    tracker = make_tracker(conversation_id, slots=slots, intent="EXTERNAL_photo_received",
                           text="/EXTERNAL_photo_received", active_loop=active_loop, entities=entities)
    if photo_id is not None:
        tracker.latest_message["metadata"] = {photos.PHOTO_METADATA_KEY: photo_id, "client": "203.0.113.7"}
    return tracker


def said(tracker, domain) -> list[str]:
    events, messages = run_action(ActionPhotoReceived(), tracker, domain)
    assert events == []
    return response_names(messages)


def test_a_stored_photo_is_thanked_for_with_a_way_to_report_the_problem(action_store, settings, domain, conversation_id):
    photo_id = kept_photo(action_store, settings, conversation_id)

    _, messages = run_action(ActionPhotoReceived(), photo_message(conversation_id, photo_id), domain)

    assert response_names(messages) == ["utter_photo_received"]
    payloads = sent_payloads(domain["responses"]["utter_photo_received"][0])
    assert payloads == ['/report_problem{"problem": "damaged"}', '/report_problem{"problem": "wrong_item"}']


def test_a_typed_intent_or_another_conversations_photo_gets_no_thanks(action_store, settings, domain, conversation_id):
    theirs = kept_photo(action_store, settings, "web:someone-else")
    mine = kept_photo(action_store, settings, conversation_id, seed=1)

    assert said(photo_message(conversation_id), domain) == ["utter_photo_not_received"]
    assert said(photo_message(conversation_id, theirs), domain) == ["utter_photo_not_received"]
    assert said(photo_message(conversation_id, str(mine)), domain) == ["utter_photo_not_received"]
    # An entity or a slot naming the photo is not the channel's metadata.
    typed = photo_message(conversation_id, slots={"photo_id": mine}, entities=[{"entity": "photo_id", "value": mine}])
    assert said(typed, domain) == ["utter_photo_not_received"]


def test_a_photo_during_a_problem_report_is_noted_as_evidence(action_store, settings, domain, conversation_id):
    photo_id = kept_photo(action_store, settings, conversation_id)

    in_report = photo_message(conversation_id, photo_id, active_loop="problem_form")
    looking_up_for_problem = photo_message(conversation_id, photo_id, active_loop="order_lookup_form",
                                           slots={"order_purpose": "problem"})
    looking_up_for_tracking = photo_message(conversation_id, photo_id, active_loop="order_lookup_form",
                                            slots={"order_purpose": "track"})

    assert said(in_report, domain) == ["utter_photo_noted_as_evidence"]
    assert said(looking_up_for_problem, domain) == ["utter_photo_noted_as_evidence"]
    assert said(looking_up_for_tracking, domain) == ["utter_photo_received"]


def test_a_photo_with_an_open_ticket_goes_to_the_agent(action_store, settings, domain, conversation_id):
    photo_id = kept_photo(action_store, settings, conversation_id)
    with action_store.session() as s:
        handoff.open_ticket(s, Conversation(conversation_id, "socketio"), "asked_for_human", "", settings=settings)

    assert said(photo_message(conversation_id, photo_id, active_loop="problem_form"), domain) == [
        "utter_photo_added_to_ticket"]


@pytest.mark.parametrize("problem, asks", [("damaged", True), ("wrong_item", True), ("missing", False), ("late", False)])
def test_a_problem_report_asks_for_a_photo_when_none_was_sent(action_store, settings, domain, conversation_id,
                                                             problem, asks):
    dispatcher = CollectingDispatcher()

    answer = ValidateProblemForm().validate_problem(problem, dispatcher, make_tracker(conversation_id), domain)

    assert answer == {"problem": problem}
    assert response_names(dispatcher.messages) == (["utter_ask_problem_photo"] if asks else [])


def test_a_problem_report_after_a_photo_does_not_ask_again(action_store, settings, domain, conversation_id):
    kept_photo(action_store, settings, conversation_id)
    dispatcher = CollectingDispatcher()

    ValidateProblemForm().validate_problem("damaged", dispatcher, make_tracker(conversation_id), domain)

    assert dispatcher.messages == []


def test_the_domain_and_rules_wire_the_photo_intent_to_the_action(domain):
    assert "EXTERNAL_photo_received" in domain["intents"]
    assert "action_photo_received" in domain["actions"]
    used = {*RESPONSE_FOR.values(), "utter_ask_problem_photo", *photos.ANSWER_RESPONSES.values()}
    assert used <= set(domain["responses"])
    rules = yaml.safe_load((ROOT / "data" / "rules" / "photos.yml").read_text())["rules"]
    for rule in rules:
        steps = rule["steps"]
        assert steps[0] == {"intent": "EXTERNAL_photo_received"} and steps[1] == {"action": "action_photo_received"}

