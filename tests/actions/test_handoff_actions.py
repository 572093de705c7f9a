"""Handing over to a person and asking before guessing, run as the action server runs them."""
from __future__ import annotations

from sqlalchemy import select

from actions.handoff import ActionClarify, ActionHandoff, ActionSessionStart
from bot.conversation import Conversation
from bot.orders import lookup as orders
from bot.store.models import HandoffTicket
from bot.settings import get_settings
from bot.support import business_hours, handoff
from tests.actions.conftest import make_tracker, response_names, run_action
from tests.factories import make_customer, make_order, make_product

PAUSED = {"event": "pause", "timestamp": None}


def fallback_turn(text: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": "nlu_fallback"}}}


def understood_turn(text: str, intent: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def low_confidence(conversation_id, text, ranking, earlier=()):
    tracker = make_tracker(conversation_id, text=text, intent="nlu_fallback",
                           events=[*earlier, fallback_turn(text)])
    tracker.latest_message["intent_ranking"] = [{"name": n, "confidence": c} for n, c in ranking]
    return tracker


def test_asking_for_a_person_opens_a_ticket_with_the_transcript_and_pauses(action_store, desk_open, domain,
                                                                           conversation_id):
    tracker = make_tracker(conversation_id, text="can I talk to someone", intent="human_handoff", events=[
        {"event": "user", "text": "where is my order"},
        {"event": "bot", "text": "What's your order number?"},
        {"event": "user", "text": "can I talk to someone"},
    ])
    events, messages = run_action(ActionHandoff(), tracker, domain)
    assert events == [PAUSED]
    assert response_names(messages) == ["utter_handoff_opened"]
    with action_store.session() as s:
        ticket = s.execute(select(HandoffTicket)).scalar_one()
    assert ticket.reason == "asked_for_human" and ticket.conversation_id == conversation_id
    assert "What's your order number?" in ticket.transcript


def test_after_hours_the_shopper_is_told_when_a_person_answers_and_the_ticket_is_kept(
    action_store, monkeypatch, domain, conversation_id
):
    """Issue #19: nobody at the desk; the handoff names the desk's next opening, from the same hours."""
    monkeypatch.setenv("SUPPORT_HOURS", "Monday-Sunday 9am-10am UTC")
    monkeypatch.setenv("TINSEL_TODAY", "2026-12-08")  # the store's clock: noon, after that day's hour
    get_settings.cache_clear()
    tracker = make_tracker(conversation_id, text="a person please", intent="human_handoff")

    events, messages = run_action(ActionHandoff(), tracker, domain)

    assert events == [PAUSED]
    assert response_names(messages) == ["utter_handoff_opened_after_hours"]
    assert messages[0]["opens"] == business_hours.next_opening(get_settings().now(), get_settings()).when
    assert messages[0]["opens"] == "tomorrow at 9am UTC"
    with action_store.session() as s:
        assert s.execute(select(HandoffTicket)).scalar_one().open_marker == 1  # kept in the queue
    get_settings.cache_clear()


def test_a_second_request_joins_the_open_ticket(action_store, domain, conversation_id):
    tracker = make_tracker(conversation_id, text="human please", intent="human_handoff")
    run_action(ActionHandoff(), tracker, domain)
    _, messages = run_action(ActionHandoff(), tracker, domain)
    assert response_names(messages) == ["utter_handoff_already_open"]
    with action_store.session() as s:
        assert len(s.execute(select(HandoffTicket)).scalars().all()) == 1


def test_an_angry_shopper_is_recorded_as_frustrated(action_store, domain, conversation_id):
    tracker = make_tracker(conversation_id, text="this is ridiculous, get me a person", intent="human_handoff")
    run_action(ActionHandoff(), tracker, domain)
    with action_store.session() as s:
        assert s.execute(select(HandoffTicket.reason)).scalar_one() == "frustration"


def test_the_ticket_names_the_verified_order_and_customer(action_store, domain, conversation_id, settings):
    with action_store.session() as s:
        shopper = make_customer(s, email="kim@example.com")
        order = make_order(s, shopper, items=[(make_product(s), 1)], number="104999")
    with action_store.session() as s:
        orders.verify(s, conversation_id, "104999", "kim@example.com", settings)
    run_action(ActionHandoff(), make_tracker(conversation_id, text="agent", intent="human_handoff"), domain)
    with action_store.session() as s:
        ticket = s.execute(select(HandoffTicket)).scalar_one()
        assert (ticket.order_id, ticket.customer_id) == (order.id, shopper.id)


def test_low_confidence_offers_the_two_likeliest_topics_and_a_person(action_store, domain, conversation_id):
    tracker = low_confidence(conversation_id, "my thing from the sale",
                             [("nlu_fallback", 0.45), ("return_item", 0.3), ("track_order", 0.2), ("greet", 0.1)])
    events, messages = run_action(ActionClarify(), tracker, domain)
    assert events == []
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ["/return_item", "/track_order", "/human_handoff"]


def test_second_miss_in_a_row_goes_to_a_person_not_a_guess(action_store, domain, conversation_id):
    tracker = low_confidence(conversation_id, "the blue thingy",
                             [("nlu_fallback", 0.45), ("exchange_item", 0.3)],
                             earlier=[fallback_turn("hmm the thing")])
    events, messages = run_action(ActionClarify(), tracker, domain)
    assert events == [PAUSED]
    with action_store.session() as s:
        assert s.execute(select(HandoffTicket.reason)).scalar_one() == "repeated_fallback"


def test_a_miss_after_an_understood_message_is_only_the_first(action_store, domain, conversation_id):
    tracker = low_confidence(conversation_id, "the blue thingy", [("nlu_fallback", 0.45)],
                             earlier=[fallback_turn("hmm"), understood_turn("where is my order", "track_order")])
    events, messages = run_action(ActionClarify(), tracker, domain)
    assert events == [] and response_names(messages) == ["utter_clarify"]


# --- a new session while an agent has the conversation -----------------------------------------


def asked_for_human(store, conversation_id):
    with store.session() as s:
        return handoff.open_ticket(s, Conversation(conversation_id, "socketio", []), "asked_for_human", "help")


def session_start(conversation_id, domain, slots=None):
    return run_action(ActionSessionStart(), make_tracker(conversation_id, slots=slots), domain)


def test_a_new_session_keeps_the_bot_silent_while_the_ticket_is_open(action_store, domain, conversation_id, dead_rasa_url):
    ticket, _ = asked_for_human(action_store, conversation_id)
    events, messages = session_start(conversation_id, domain, slots={"order_number": "104776"})
    assert messages == []
    assert [e["event"] for e in events] == ["session_started", "slot", "action", "pause"]
    assert events[1]["name"] == "order_number" and events[1]["value"] == "104776"

    handoff.resolve(action_store, ticket.id, actor="dana", rasa_url=dead_rasa_url)
    events, _ = session_start(conversation_id, domain)
    assert [e["event"] for e in events] == ["session_started", "action"]
    assert events[-1]["name"] == "action_listen"


def test_another_conversations_ticket_does_not_pause_this_one(action_store, domain, conversation_id):
    asked_for_human(action_store, "someone-else")
    events, _ = session_start(conversation_id, domain)
    assert PAUSED not in events
