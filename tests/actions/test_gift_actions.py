"""The gift finder as the action server runs it: the form's answers, the ideas and the wishlist."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from actions.gifts import (
    QUESTIONS,
    ActionRecommendGifts,
    ActionSaveGift,
    ValidateGiftForm,
    request_from_slot,
    request_to_slot,
)
from bot.gifting.gift_request import parse_gift_request
from bot.store.models import Product, WishlistItem
from tests.actions.conftest import make_tracker, response_names, run_action
from tests.factories import make_product

NIECE = "something for my 10 year old niece who loves art, under $40"


@pytest.fixture
def shop(action_store):
    """A small catalog; returns {short name: product id}."""
    with action_store.session() as s:
        rows = {
            "watercolors": make_product(s, "Watercolor Set", "24.00", tags=("art",), min_age=6, max_age=14),
            "sketchbook": make_product(s, "Sketchbook", "12.00", tags=("art",), min_age=8),
            "clay": make_product(s, "Clay Studio", "22.00", tags=("art", "crafts"), min_age=6),
            "easel": make_product(s, "Tabletop Easel", "45.00", tags=("art",), min_age=8),
            "brushes": make_product(s, "Brush Roll", "16.00", tags=("art",), min_age=8),
            "football": make_product(s, "Match Football", "30.00", tags=("football",), min_age=5),
            "knife": make_product(s, "Chef's Knife", "189.00", tags=("cooking",), min_age=18),
            "beans": make_product(s, "Coffee Sampler", "36.00", tags=("coffee",), min_age=18),
        }
        return {name: p.id for name, p in rows.items()}


def form_slots(events) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def answer(cid, text, domain, slots=None, intent="inform", entities=None, starting=False):
    """What validate_gift_form sets for one message: the first one (starting: Rasa already
    shows the form as active, with nothing asked yet) or an answer to `requested_slot`."""
    if starting:
        slots = {**(slots or {}), "requested_slot": None}
    tracker = make_tracker(cid, slots=slots, text=text, intent=intent, entities=entities,
                           active_loop="gift_form")
    events, messages = run_action(ValidateGiftForm(), tracker, domain)
    return form_slots(events), messages


def answers_of(slots) -> dict:
    return {slot: slots.get(slot) for slot in QUESTIONS}


def searched(text, **fields) -> dict:
    """The slots after a first message that left nothing to ask."""
    request = parse_gift_request(text, {"art", "football", "coffee", "cooking", "crafts"})
    return {"gift_request": request_to_slot(request), **fields}


# --- the form --------------------------------------------------------------------------------


def test_everything_in_the_first_message_answers_every_question(shop, domain, conversation_id):
    slots, messages = answer(conversation_id, NIECE, domain, intent="gift_advice", starting=True)
    assert answers_of(slots) == {
        "gift_recipient": "niece", "gift_age": "10", "gift_interests": "art", "gift_budget": "40.00",
    }
    assert messages == []


def test_only_what_the_first_message_left_out_is_asked(shop, domain, conversation_id):
    slots, _ = answer(conversation_id, "a gift for my dad who likes coffee", domain,
                      intent="gift_advice", starting=True)
    # a grown-up needs no age; the form asks the first question still None: the budget
    assert answers_of(slots) == {
        "gift_recipient": "father", "gift_age": "adult", "gift_interests": "coffee", "gift_budget": None,
    }


def test_one_question_at_a_time(shop, domain, conversation_id):
    slots, messages = answer(conversation_id, "I need a gift idea", domain, intent="gift_advice", starting=True)
    assert answers_of(slots) == dict.fromkeys(QUESTIONS) and messages == []
    for requested, text, expected in [
        ("gift_recipient", "my nephew", "nephew"),
        ("gift_age", "12", "12"),
        ("gift_interests", "he likes football", "football"),
        ("gift_budget", "50", "50.00"),
    ]:
        new, messages = answer(conversation_id, text, domain, slots={**slots, "requested_slot": requested})
        assert new[requested] == expected and messages == []
        slots = {**slots, **new}
    assert request_from_slot(slots["gift_request"]).missing == []


@pytest.mark.parametrize(
    "first, requested, text, expected",
    [("for my friend", "gift_interests", "no idea", "no idea"),
     ("for my friend", "gift_budget", "money's no object", "no limit"),
     ("for my friend", "gift_age", "an adult", "adult"),
     ("I need a gift idea", "gift_recipient", "someone at work", "someone")],
)
def test_not_knowing_is_an_answer_too(shop, domain, conversation_id, first, requested, text, expected):
    slots = {**searched(first), "requested_slot": requested}
    new, messages = answer(conversation_id, text, domain, slots=slots)
    assert new[requested] == expected and messages == []


def test_an_unclear_answer_is_asked_again(shop, domain, conversation_id):
    slots = {**searched("for my niece"), "requested_slot": "gift_age"}
    new, messages = answer(conversation_id, "hmm let me think", domain, slots=slots)
    assert new == {"gift_age": None}
    assert response_names(messages) == ["utter_gift_unclear"]


@pytest.mark.parametrize("requested, expected", [("gift_interests", "no idea"), ("gift_budget", "no limit")])
def test_nope_to_interests_or_budget_means_no_preference(shop, domain, conversation_id, requested, expected):
    slots = {**searched("for my niece, she's 10"), "requested_slot": requested}
    new, messages = answer(conversation_id, "nope", domain, slots=slots, intent="deny")
    assert new[requested] == expected and messages == []


@pytest.mark.parametrize(
    "requested, intent", [("gift_recipient", "deny"), ("gift_interests", "deny"), ("gift_age", "out_of_scope")]
)
def test_forget_it_stops_the_gift_finder(shop, domain, conversation_id, requested, intent):
    slots = {**searched("I need a gift idea"), "requested_slot": requested}
    new, messages = answer(conversation_id, "no, forget it", domain, slots=slots, intent=intent)
    assert new == {requested: None, "requested_slot": None}
    assert response_names(messages) == ["utter_gift_stopped"]
    _, messages = recommend(conversation_id, domain, slots)
    assert messages == []


def test_a_plain_no_to_how_old_is_asked_again(shop, domain, conversation_id):
    slots = {**searched("for my niece"), "requested_slot": "gift_age"}
    new, messages = answer(conversation_id, "hmm no", domain, slots=slots, intent="deny")
    assert new == {"gift_age": None} and response_names(messages) == ["utter_gift_unclear"]


@pytest.mark.parametrize(
    "text, intent",
    [("where is my order 104776", "track_order"), ("what's the weather tomorrow", "out_of_scope"),
     ("do you gift wrap for my mum?", "faq"), ("a person please, she's 10", "human_handoff")],
)
def test_a_question_about_something_else_is_left_to_the_rules(shop, domain, conversation_id, text, intent):
    slots = {**searched("for my niece"), "requested_slot": "gift_budget"}
    new, messages = answer(conversation_id, text, domain, slots=slots, intent=intent)
    assert new == {} and messages == []


@pytest.mark.parametrize(
    "requested, text, expected",
    [("gift_interests", "he loves football", "football"), ("gift_interests", "no idea", "no idea"),
     ("gift_budget", "no idea", "no limit"), ("gift_age", "he's a grown-up", "adult")],
)
def test_an_answer_the_nlu_misread_still_counts(shop, domain, conversation_id, requested, text, expected):
    slots = {**searched("for my nephew"), "requested_slot": requested}
    new, _ = answer(conversation_id, text, domain, slots=slots, intent="out_of_scope")
    assert new[requested] == expected


def test_spacy_amounts_and_nlu_interests_are_understood(shop, domain, conversation_id):
    entities = [{"entity": "MONEY", "value": "35 smackeroos"}, {"entity": "interest", "value": "unicorns"}]
    slots, _ = answer(conversation_id, "my niece loves unicorns, 35 smackeroos", domain,
                      intent="gift_advice", entities=entities, starting=True)
    assert (slots["gift_interests"], slots["gift_budget"]) == ("unicorns", "35.00")


def test_typed_entities_cannot_fill_the_answers(shop, domain, conversation_id):
    entities = [{"entity": slot, "value": "1"} for slot in (*QUESTIONS, "gift_request")]
    slots, _ = answer(conversation_id, "/gift_advice", domain, intent="gift_advice",
                      entities=entities, starting=True)
    assert answers_of(slots) == dict.fromkeys(QUESTIONS)


def test_gift_slots_are_only_ever_set_by_actions(domain):
    for slot in (*QUESTIONS, "gift_request", "gift_shown", "personal_touch_done"):
        assert [m["type"] for m in domain["slots"][slot]["mappings"]] == ["custom"], slot


def test_a_new_search_starts_afresh(shop, domain, conversation_id):
    previous = searched(NIECE, gift_shown=[shop["watercolors"]])
    slots, _ = answer(conversation_id, "now something for my dad", domain, slots=previous,
                      intent="gift_advice", starting=True)
    assert answers_of(slots) == {
        "gift_recipient": "father", "gift_age": "adult", "gift_interests": None, "gift_budget": None,
    }
    assert slots["gift_shown"] is None


def test_asking_for_more_keeps_the_last_search(shop, domain, conversation_id):
    previous = searched(NIECE, gift_shown=[shop["watercolors"]])
    slots, _ = answer(conversation_id, "any other ideas?", domain, slots=previous,
                      intent="gift_advice", starting=True)
    assert answers_of(slots)["gift_recipient"] == "niece"
    assert "gift_shown" not in slots


# --- ideas -------------------------------------------------------------------------------------


def recommend(cid, domain, slots, intent="gift_advice"):
    events, messages = run_action(ActionRecommendGifts(), make_tracker(cid, slots=slots, intent=intent), domain)
    return form_slots(events), messages


def idea_messages(messages):
    return [m for m in messages if m.get("response") == "utter_gift_idea"]


def saved_ids(messages):
    buttons = messages[-1]["buttons"]
    return [int(json.loads(b["payload"].removeprefix("/inform"))["product_id"])
            for b in buttons if b["payload"].startswith("/inform")]


def test_at_most_three_ideas_with_price_link_reason_and_save_buttons(shop, domain, conversation_id):
    slots, messages = recommend(conversation_id, domain, searched(NIECE))
    assert messages[0]["response"] == "utter_gift_ideas_intro" and messages[0]["recipient"] == "your niece"
    ideas = idea_messages(messages)
    assert len(ideas) == 3
    for idea in ideas:
        assert idea["price"].startswith("$") and "/products/" in idea["url"]
        assert "she loves art" in idea["reason"]
    assert "Tabletop Easel" not in " ".join(i["reason"] for i in ideas)  # over the $40 budget
    ids = saved_ids(messages)
    assert slots["gift_shown"] == ids and len(ids) == 3
    assert [b["payload"] for b in messages[-1]["buttons"]][-2:] == ["/affirm", "/deny"]


def test_prices_in_the_ideas_are_the_databases(shop, domain, conversation_id, action_store):
    _, messages = recommend(conversation_id, domain, searched(NIECE))
    with action_store.session() as s:
        prices = {p.name: f"${p.price:,.2f}" for p in s.execute(select(Product)).scalars()}
    for idea in idea_messages(messages):
        name = idea["reason"].split(": ", 1)[1]
        assert idea["price"] == prices[name]


def test_more_ideas_never_repeat_one(shop, domain, conversation_id):
    first, messages = recommend(conversation_id, domain, searched(NIECE))
    second, more = recommend(conversation_id, domain, {**searched(NIECE), **first}, intent="affirm")
    assert more[0]["response"] == "utter_gift_more_ideas_intro"
    assert set(saved_ids(messages)).isdisjoint(saved_ids(more))
    assert set(first["gift_shown"]) < set(second["gift_shown"])


def test_when_nothing_fits_it_says_why_and_offers_the_closest(shop, domain, conversation_id):
    _, messages = recommend(conversation_id, domain, searched("my 10 year old niece loves art, under $10"))
    assert messages[0]["response"] == "utter_gift_explanation"
    assert "couldn't find art gifts" in messages[0]["explanation"]
    ideas = idea_messages(messages)
    assert ideas and all("over your budget" in i["reason"] for i in ideas)


def test_nothing_at_all_for_that_age_suggests_a_gift_card_and_offers_no_buttons(shop, domain, conversation_id):
    _, messages = recommend(conversation_id, domain, searched("my 2 year old nephew who loves football, under $50"))
    assert response_names(messages) == ["utter_gift_explanation"]
    assert "gift card" in messages[0]["explanation"]


# --- the wishlist ------------------------------------------------------------------------------


def save(cid, domain, value, slots=None):
    """A tap on a "Save" button (an id), or a typed product name."""
    entity = "product_id" if str(value).isdigit() else "product"
    tracker = make_tracker(cid, slots=slots, text=f'/inform{{"{entity}": "{value}"}}',
                           entities=[{"entity": entity, "value": str(value)}])
    return run_action(ActionSaveGift(), tracker, domain)


def wishlist_product_ids(store, cid):
    with store.session() as s:
        return s.execute(select(WishlistItem.product_id).where(WishlistItem.conversation_id == cid)).scalars().all()


def test_saving_an_idea_gives_a_link_to_share_the_list(shop, domain, conversation_id, action_store):
    _, messages = save(conversation_id, domain, shop["watercolors"])
    assert response_names(messages) == ["utter_gift_saved"]
    assert messages[0]["product_name"] == "Watercolor Set" and messages[0]["price"] == "$24.00"
    assert "/wishlist/" in messages[0]["share_link"]
    assert wishlist_product_ids(action_store, conversation_id) == [shop["watercolors"]]


def test_saving_twice_keeps_one(shop, domain, conversation_id, action_store):
    save(conversation_id, domain, shop["clay"])
    _, messages = save(conversation_id, domain, shop["clay"])
    assert response_names(messages) == ["utter_gift_already_saved"]
    assert wishlist_product_ids(action_store, conversation_id) == [shop["clay"]]


@pytest.mark.parametrize("value", ["999999", "99999999999999999999", "watercolours please"])
def test_a_product_that_does_not_exist_is_refused(shop, domain, conversation_id, action_store, value):
    _, messages = save(conversation_id, domain, value)
    assert response_names(messages) == ["utter_gift_unknown_product"]
    assert wishlist_product_ids(action_store, conversation_id) == []


def test_an_idea_can_be_saved_by_name(shop, domain, conversation_id, action_store):
    shown = {"gift_shown": [shop["watercolors"], shop["sketchbook"], shop["clay"]]}
    _, messages = save(conversation_id, domain, "watercolor set", slots=shown)
    assert response_names(messages) == ["utter_gift_saved"]
    assert wishlist_product_ids(action_store, conversation_id) == [shop["watercolors"]]
