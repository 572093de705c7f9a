"""The order look-up form and answers, run as the action server runs them."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from rasa_sdk.events import SlotSet
from sqlalchemy import select

from actions.orders import ActionCancelOrder, ActionShowOrder, ValidateOrderLookupForm
from bot.store.models import Order
from tests.actions.conftest import make_tracker, response_names, run_action
from tests.factories import make_customer, make_order, make_product, make_shipment

NUMBER, EMAIL, OTHER_EMAIL = "104217", "ann.lee@example.com", "bob.ray@example.com"


@pytest.fixture
def shop(action_store, settings):
    with action_store.session() as s:
        ann = make_customer(s, name="Ann Lee", email=EMAIL)
        make_customer(s, name="Bob Ray", email=OTHER_EMAIL)
        lamp = make_product(s, name="Star Lamp", price="40.00")
        bulbs = make_product(s, name="Spare Bulbs", price="6.00")
        lamp.complements.append(bulbs)
        order = make_order(s, ann, items=[(lamp, 1)], status="shipped", number=NUMBER)
        make_shipment(s, order, carrier="FedEx", eta=settings.today() + dt.timedelta(days=2),
                      tracking_number="FX123")
        make_order(s, ann, items=[(lamp, 1)], status="processing", number="104300")
    return action_store


def filled(sender, number, email, text=""):
    """A tracker whose latest user message filled both form slots."""
    return make_tracker(
        sender,
        slots={"order_number": number, "order_email": email, "requested_slot": "order_email"},
        text=text or f"{number} {email}",
        events=[SlotSet("order_number", number), SlotSet("order_email", email)],
        active_loop="order_lookup_form",
    )


def validate(tracker, domain):
    return run_action(ValidateOrderLookupForm(), tracker, domain)


def test_matching_number_and_email_keep_both_slots(shop, domain, conversation_id):
    events, messages = validate(filled(conversation_id, NUMBER, EMAIL), domain)
    slots = {e["name"]: e["value"] for e in events}
    assert slots == {"order_number": NUMBER, "order_email": EMAIL}
    assert messages == []


def test_someone_elses_email_clears_the_slots_and_says_how_many_tries_are_left(
    shop, domain, conversation_id, settings
):
    events, messages = validate(filled(conversation_id, NUMBER, OTHER_EMAIL), domain)
    assert {e["name"]: e["value"] for e in events}["order_number"] is None
    assert response_names(messages) == ["utter_order_mismatch"]
    assert messages[0]["attempts_left"] == settings.max_verification_attempts - 1


def test_a_number_that_is_not_an_order_number_is_refused_politely(shop, domain, conversation_id):
    tracker = make_tracker(conversation_id, slots={"order_number": "my order"}, text="my order",
                           events=[SlotSet("order_number", "my order")], active_loop="order_lookup_form")
    events, messages = validate(tracker, domain)
    assert {e["name"]: e["value"] for e in events} == {"order_number": None}
    assert response_names(messages) == ["utter_invalid_order_number"]


def test_a_message_that_does_not_complete_the_pair_opens_one_reading_unit_of_work(
    shop, domain, conversation_id, monkeypatch
):
    """The form runs on every message: one transaction, and no write lock, unless it verifies."""
    opened = []
    for kind in ("session", "reading"):
        real = getattr(type(shop), kind)
        monkeypatch.setattr(type(shop), kind, lambda store, real=real, kind=kind: opened.append(kind) or real(store))
    tracker = make_tracker(conversation_id, slots={"requested_slot": "order_number"}, text=f"it's #{NUMBER}",
                           active_loop="order_lookup_form")
    events, _ = validate(tracker, domain)
    assert {e["name"]: e["value"] for e in events}["order_number"] == NUMBER
    assert opened == ["reading"]
    validate(filled(conversation_id, NUMBER, EMAIL), domain)
    assert opened == ["reading", "reading", "session"]


def test_locked_conversation_is_not_asked_again(shop, domain, conversation_id, settings):
    for _ in range(settings.max_verification_attempts):
        validate(filled(conversation_id, NUMBER, OTHER_EMAIL), domain)
    form = ValidateOrderLookupForm()
    required = asyncio.run(form.required_slots(["order_number", "order_email"], None,
                                               make_tracker(conversation_id), domain))
    assert required == []
    events, messages = run_action(ActionShowOrder(), make_tracker(conversation_id, slots={
        "order_number": NUMBER, "order_email": EMAIL}), domain)
    assert response_names(messages) == ["utter_verification_locked"]
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "utter_offer_human"}


def test_show_order_answers_with_status_tracking_eta_and_a_complement(shop, domain, conversation_id):
    validate(filled(conversation_id, NUMBER, EMAIL), domain)
    _, messages = run_action(ActionShowOrder(), make_tracker(conversation_id, slots={
        "order_number": NUMBER, "order_email": EMAIL}), domain)
    names = response_names(messages)
    assert names[0] == "utter_order_status"
    assert messages[0]["carrier"] == "FedEx" and messages[0]["tracking_number"] == "FX123"
    assert "Estimated delivery" in messages[0]["eta_line"]
    assert names[-1] == "utter_complement" and messages[-1]["product_name"] == "Spare Bulbs"


def test_slot_typed_by_the_shopper_is_not_proof_of_ownership(shop, domain, conversation_id):
    """`/track_order{"order_number": "104217"}` fills the slot but verifies nothing."""
    _, messages = run_action(ActionShowOrder(), make_tracker(conversation_id, slots={
        "order_number": NUMBER, "order_email": EMAIL}), domain)
    assert "utter_order_status" not in response_names(messages)


def test_cancel_a_processing_order(shop, domain, conversation_id):
    validate(filled(conversation_id, "104300", EMAIL), domain)
    _, messages = run_action(ActionCancelOrder(), make_tracker(conversation_id, slots={
        "order_number": "104300"}), domain)
    assert response_names(messages) == ["utter_cancel_done"]
    with shop.session() as s:
        assert s.execute(select(Order.status).where(Order.number == "104300")).scalar_one() == "cancelled"


def test_cancel_a_shipped_order_points_to_returns(shop, domain, conversation_id):
    validate(filled(conversation_id, NUMBER, EMAIL), domain)
    _, messages = run_action(ActionCancelOrder(), make_tracker(conversation_id, slots={
        "order_number": NUMBER}), domain)
    assert response_names(messages) == ["utter_cancel_already_shipped"]


def test_a_bare_number_and_email_fill_the_form_without_entities(shop, domain, conversation_id):
    """The NLU may miss the entity (spaCy calls 104217 a DATE); the form still reads it."""
    tracker = make_tracker(conversation_id, slots={"requested_slot": "order_number"}, text=f"#{NUMBER}",
                           active_loop="order_lookup_form")
    events, messages = validate(tracker, domain)
    assert {e["name"]: e["value"] for e in events} == {"order_number": NUMBER}
    tracker = make_tracker(conversation_id, slots={"order_number": NUMBER, "requested_slot": "order_email"},
                           text=f"it's {EMAIL.upper()} thanks", active_loop="order_lookup_form")
    events, messages = validate(tracker, domain)
    assert {e["name"]: e["value"] for e in events} == {"order_email": EMAIL}
    assert messages == []


def test_a_shopify_order_is_found_by_its_four_digit_name(action_store, domain, conversation_id):
    """Shopify names orders from #1001: "#5301" anywhere, a bare "5301" as the answer to the
    question; a year in the first message is not taken for one (issue #17)."""
    with action_store.session() as s:
        make_order(s, make_customer(s, name="Cy Doe", email="cy@example.com"), number="5301",
                   items=[(make_product(s, name="Mug", price="9.00"), 1)], status="processing")
    opening = make_tracker(conversation_id, text="where is the mug I ordered in 2024?",
                           entities=[{"entity": "order_number", "value": "2024"}],
                           active_loop="order_lookup_form")
    events, messages = validate(opening, domain)
    assert "order_number" not in {e["name"]: e["value"] for e in events if e["value"]}
    for text in ("5301", "#5301"):
        asked = make_tracker(conversation_id, slots={"requested_slot": "order_number"}, text=text,
                             active_loop="order_lookup_form")
        events, _ = validate(asked, domain)
        assert {e["name"]: e["value"] for e in events} == {"order_number": "5301"}
    answered = make_tracker(conversation_id, slots={"order_number": "5301", "requested_slot": "order_email"},
                            text="cy@example.com", active_loop="order_lookup_form")
    events, messages = validate(answered, domain)
    assert {e["name"]: e["value"] for e in events}["order_email"] == "cy@example.com"
    assert response_names(messages) == []


# --- Issue #15: order-guessing throttle and verification expiry, as the action server runs them.
def guessed_from_other_conversations(settings):
    """Wrong emails for NUMBER from many conversations, up to the per-order limit."""
    from bot.orders import lookup as orders

    for n in range(settings.guess_limit_per_order):
        with bot_store().session() as s:
            orders.verify(s, f"guesser-{n}", NUMBER, f"guess{n}@example.com", settings, client=f"rest:{n}")


def bot_store():
    from actions.common import store

    return store()


def test_a_throttled_right_pair_gets_the_mismatch_answer_and_an_offer_of_a_person(
    shop, domain, conversation_id, settings
):
    from actions.common import settings as action_settings

    guessed_from_other_conversations(action_settings())
    events, messages = validate(filled(conversation_id, NUMBER, EMAIL), domain)
    assert response_names(messages) == ["utter_order_mismatch"]
    assert {e["name"]: e["value"] for e in events} == {"order_number": NUMBER, "order_email": EMAIL}
    required = asyncio.run(ValidateOrderLookupForm().required_slots(
        ["order_number", "order_email"], None, make_tracker(conversation_id), domain))
    assert required == []
    events, messages = run_action(ActionShowOrder(), make_tracker(conversation_id, slots={
        "order_number": NUMBER, "order_email": EMAIL}), domain)
    assert response_names(messages) == []
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "utter_offer_human"}


def test_the_channel_client_from_message_metadata_is_what_gets_throttled(shop, domain, settings):
    from actions.common import settings as action_settings
    from actions.orders import verification_client

    tracker = filled("someone", NUMBER, OTHER_EMAIL)
    tracker.latest_message["metadata"] = {"client": "203.0.113.7"}
    tracker.events.insert(0, {"event": "user", "input_channel": "rest", "text": "x"})
    assert verification_client(tracker) == "rest:203.0.113.7"
    assert verification_client(filled("someone", NUMBER, OTHER_EMAIL)) == ""  # no whole-channel bucket
    for n in range(action_settings().guess_limit_per_client):
        tracker = filled(f"c{n}", f"5000{n:02d}", f"x{n}@example.com")
        tracker.latest_message["metadata"] = {"client": "203.0.113.7"}
        tracker.events.insert(0, {"event": "user", "input_channel": "rest", "text": "x"})
        _, said = validate(tracker, domain)
        assert response_names(said) == ["utter_order_mismatch"], n
    tracker = filled("owner", NUMBER, EMAIL)
    tracker.latest_message["metadata"] = {"client": "203.0.113.7"}
    tracker.events.insert(0, {"event": "user", "input_channel": "rest", "text": "x"})
    events, messages = validate(tracker, domain)
    assert response_names(messages) == ["utter_order_mismatch"]
    events, messages = validate(filled("owner-elsewhere", NUMBER, EMAIL), domain)
    assert messages == []


def test_an_expired_verification_asks_again_in_a_friendly_way(shop, domain, conversation_id):
    from actions.common import settings as action_settings
    from bot.orders import lookup as orders

    config = action_settings()
    long_ago = config.now() - dt.timedelta(minutes=config.verification_idle_minutes + 1)
    with bot_store().session() as s:
        orders.verify(s, conversation_id, NUMBER, EMAIL, config, now=long_ago)
    events, messages = run_action(ActionShowOrder(), make_tracker(conversation_id, slots={
        "order_number": NUMBER, "order_email": EMAIL}), domain)
    assert response_names(messages) == ["utter_verification_expired"]
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "order_lookup_form"}
    assert {"event": "slot", "timestamp": None, "name": "order_number", "value": None} in events


def test_a_new_session_ends_the_verification(shop, domain, conversation_id):
    from actions.handoff import ActionSessionStart

    validate(filled(conversation_id, NUMBER, EMAIL), domain)
    run_action(ActionSessionStart(), make_tracker(conversation_id, slots={"order_number": NUMBER}), domain)
    _, messages = run_action(ActionShowOrder(), make_tracker(conversation_id, slots={
        "order_number": NUMBER, "order_email": EMAIL}), domain)
    assert "utter_order_status" not in response_names(messages)
