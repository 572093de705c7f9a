"""What the gift finder understands from the way shoppers actually ask."""
from __future__ import annotations

from decimal import Decimal

import pytest

from bot.gifting.gift_request import (
    ASSUMED_ADULT_AGE,
    GiftRequest,
    asks_for_more_ideas,
    known_interests,
    parse_gift_request,
    wants_to_stop,
)
from tests.factories import make_product

VOCABULARY = {
    "art", "football", "gaming", "cooking", "reading", "music", "science", "space",
    "dinosaurs", "outdoors", "coffee", "wine", "fashion", "crafts", "building", "sports",
}


@pytest.mark.parametrize(
    "text, relationship, age, interests, budget",
    [
        ("something for my 10 year old niece who loves art, under $40", "niece", 10, ["art"], "40"),
        ("gift for my nephew, he's 7 and into soccer and dinosaurs. budget 25 dollars", "nephew", 7, ["football", "dinosaurs"], "25"),
        ("my son is turning 7, loves lego, between 20 and 50", "son", 7, ["building"], "50"),
        ("a teenage girl who likes drawing, around 30", "girl", 15, ["art"], "30"),
        ("toddler gift under 20 bucks", None, 2, [], "20"),
        ("present for a baby, about $25", None, 0, [], "25"),
        ("for my wife, she loves cooking and wine, spend around $100", "wife", None, ["cooking", "wine"], "100"),
        ("my dad, less than fifty dollars", "father", None, [], "50"),
        ("ten-year-old boy who loves video games, $30-$60", "boy", 10, ["gaming"], "60"),
        ("age 12, loves space and science", None, 12, ["space", "science"], None),
        ("for my grandma who is into gardening, up to 40", "grandmother", None, ["gardening"], "40"),
        ("my friend's son is 9 and likes reading", "son", 9, ["reading"], None),
        ("something cheap for a coworker who drinks coffee", "coworker", None, ["coffee"], None),
        ("toys for kids under 5", "child", 4, [], None),
        ("8 to 10 year olds who love science", None, 8, ["science"], None),
        ("my sister in her 30s who loves fashion, 75$", "sister", 35, ["fashion"], "75"),
        ("gift for my 6 month old nephew", "nephew", 0, [], None),
        ("something for my boyfriend under $1,000", "boyfriend", None, [], "1000"),
        ("I'd like to spend $45.50 on my brother", "brother", None, [], "45.50"),
        ("my daughter will be eleven, she paints, 30ish", "daughter", 11, ["art"], "30"),
        ("Christmas present for my 4-year-old granddaughter who LOVES dinosaurs!! max 35", "granddaughter", 4, ["dinosaurs"], "35"),
        ("something for my 13 yo nephew, budget is 40-60 dollars", "nephew", 13, [], "60"),
        ("for my mum, around twenty five pounds, she likes knitting", "mother", None, ["crafts"], "25"),
        ("aged 9, loves football and art, no more than $35", None, 9, ["football", "art"], "35"),
    ],
)
def test_gift_requests(text, relationship, age, interests, budget):
    request = parse_gift_request(text, VOCABULARY)
    assert request.relationship == relationship
    assert request.age == age
    assert request.interests == interests
    assert request.budget == (Decimal(budget) if budget else None)


def test_ages_from_a_word_are_flagged_as_estimates():
    assert parse_gift_request("a teenager", VOCABULARY).age_is_estimate
    assert not parse_gift_request("a 14 year old", VOCABULARY).age_is_estimate


def test_a_budget_is_money_to_two_places():
    assert parse_gift_request("under $40", VOCABULARY).budget == Decimal("40.00")
    assert str(parse_gift_request("under $40", VOCABULARY).budget) == "40.00"


def test_the_age_number_is_not_taken_for_the_budget():
    request = parse_gift_request("my 10 year old nephew", VOCABULARY)
    assert (request.age, request.budget) == (10, None)


@pytest.mark.parametrize("text", ["no idea", "not sure", "I don't know what she likes", "no clue honestly", "surprise me"])
def test_no_idea_counts_as_an_answer_about_interests(text):
    request = parse_gift_request(text, VOCABULARY, expecting="interests")
    assert request.interests == [] and request.interests_unknown
    assert "interests" not in request.missing


def test_not_sure_about_the_budget_is_not_about_interests():
    request = parse_gift_request("not sure how much to spend", VOCABULARY)
    assert not request.interests_unknown


@pytest.mark.parametrize(
    "text, likes, dislikes",
    [
        ("he doesn't like sports but loves video games", ["gaming"], ["sports"]),
        ("not into football, loves space", ["space"], ["football"]),
        ("she hates cooking and she loves reading", ["reading"], ["cooking"]),
        ("isn't into music", [], ["music"]),
        ("loves art and football", ["art", "football"], []),
    ],
)
def test_dislikes_are_not_interests(text, likes, dislikes):
    request = parse_gift_request(text, VOCABULARY)
    assert (request.interests, request.dislikes) == (likes, dislikes)


def test_pronoun_follows_the_recipient():
    assert parse_gift_request("for my niece", VOCABULARY).pronoun == "she"
    assert parse_gift_request("for my grandpa", VOCABULARY).pronoun == "he"
    assert parse_gift_request("for my cousin", VOCABULARY).pronoun == "they"
    assert parse_gift_request("she's 10", VOCABULARY).pronoun == "she"


def test_adults_without_an_age_are_filtered_as_grown_ups():
    wife = parse_gift_request("for my wife", VOCABULARY)
    assert wife.age is None and wife.effective_age == ASSUMED_ADULT_AGE
    assert "age" not in wife.missing
    assert parse_gift_request("for my cousin", VOCABULARY).effective_age is None


def test_a_bare_number_answers_the_question_asked():
    assert parse_gift_request("10", VOCABULARY, expecting="age").age == 10
    assert parse_gift_request("40", VOCABULARY, expecting="budget").budget == Decimal("40.00")
    assert parse_gift_request("40", VOCABULARY).budget is None
    assert parse_gift_request("40", VOCABULARY).age is None


def test_extracted_entities_fill_in_what_the_rules_missed():
    hints = [{"entity": "MONEY", "value": "35 smackeroos"}]
    assert parse_gift_request("for my niece, 35 smackeroos", VOCABULARY, hints=hints).budget == Decimal("35.00")
    assert parse_gift_request("for my niece", VOCABULARY, hints=[("CARDINAL", "12")], expecting="age").age == 12
    assert parse_gift_request("for my niece", VOCABULARY, hints=[("DATE", "12 years old")]).age == 12


def test_the_rules_win_over_entities():
    hints = [{"entity": "MONEY", "value": "$100"}]
    assert parse_gift_request("under $40", VOCABULARY, hints=hints).budget == Decimal("40.00")


def test_missing_lists_what_to_ask_next():
    assert parse_gift_request("for my niece", VOCABULARY).missing == ["age", "interests", "budget"]
    assert parse_gift_request("my 10 year old niece who loves art, under $40", VOCABULARY).missing == []


def test_a_later_message_completes_the_request():
    first = parse_gift_request("something for my niece", VOCABULARY)
    second = first.merged(parse_gift_request("she's 10 and loves art", VOCABULARY))
    third = second.merged(parse_gift_request("40", VOCABULARY, expecting="budget"))
    assert (third.relationship, third.age, third.interests, third.budget) == ("niece", 10, ["art"], Decimal("40.00"))
    assert third.pronoun == "she"
    assert third.merged(GiftRequest(budget=Decimal("25.00"))).budget == Decimal("25.00")


def test_interest_words_are_matched_as_words():
    request = parse_gift_request("for my teacher, something for her party", VOCABULARY)
    assert request.interests == []


def test_long_input_is_cut_not_choked_on():
    request = parse_gift_request("art " * 10_000, VOCABULARY)
    assert request.interests == ["art"]


def test_known_interests_come_from_the_catalog(store):
    with store.session() as s:
        make_product(s, tags=("art", "crafts"))
        make_product(s, tags=("kites",))
        vocabulary = known_interests(s)
    assert vocabulary == {"art", "crafts", "kites"}
    assert parse_gift_request("she flies kites", vocabulary).interests == ["kites"]


def test_synonyms_land_on_the_catalogs_own_tags():
    catalog_tags = {"pets", "baking", "cooking", "wellness", "cycling"}
    assert parse_gift_request("she's crazy about her dog and loves baking", catalog_tags).interests == ["pets", "baking"]
    assert parse_gift_request("he loves baking", {"cooking"}).interests == ["cooking"]
    assert parse_gift_request("into spa days and biking", catalog_tags).interests == ["wellness", "cycling"]


@pytest.mark.parametrize("text", ["no idea", "money's no object", "no limit", "doesn't matter", "anything really"])
def test_no_budget_counts_as_an_answer_about_the_budget(text):
    request = parse_gift_request(text, VOCABULARY, expecting="budget")
    assert request.budget is None and request.budget_unknown
    assert not request.interests_unknown
    assert "budget" not in request.missing and "interests" in request.missing


def test_a_budget_given_later_replaces_no_budget():
    request = parse_gift_request("no limit", VOCABULARY, expecting="budget")
    later = request.merged(parse_gift_request("actually under $30", VOCABULARY))
    assert (later.budget, later.budget_unknown) == (Decimal("30.00"), False)


def test_no_idea_what_to_get_is_not_about_interests():
    request = parse_gift_request("i have no idea what to get my father-in-law", VOCABULARY)
    assert not request.interests_unknown and "interests" in request.missing
    assert parse_gift_request("no clue what she likes", VOCABULARY).interests_unknown


@pytest.mark.parametrize("text", ["an adult", "she's a grown-up", "grownup"])
def test_a_grown_up_needs_no_age(text):
    request = parse_gift_request(text, VOCABULARY, expecting="age")
    assert request.adult and request.effective_age == ASSUMED_ADULT_AGE
    assert "age" not in request.missing


def test_a_later_answer_fills_in_a_grown_up_and_the_pronoun():
    friend = parse_gift_request("for my friend", VOCABULARY)
    later = friend.merged(parse_gift_request("she's an adult", VOCABULARY, expecting="age"))
    assert later.adult and later.pronoun == "she" and "age" not in later.missing


@pytest.mark.parametrize(
    "text, interests",
    [
        ("he likes golf", ["golf"]),
        ("he's really into golf", ["golf"]),
        ("golf and tennis", ["golf", "tennis"]),
        ("hiking, camping, that sort of thing", ["outdoors"]),
        ("she doesn't like golf", []),
        ("nope", []),
        ("hmm let me think", []),
    ],
)
def test_an_answer_about_interests_keeps_words_the_catalog_lacks(text, interests):
    assert parse_gift_request(text, VOCABULARY, expecting="interests").interests == interests


def test_unknown_words_are_not_interests_unless_interests_were_asked():
    assert parse_gift_request("he likes golf", VOCABULARY).interests == []


@pytest.mark.parametrize(
    "text, more",
    [("any other ideas?", True), ("show me more", True), ("something different", True),
     ("something for my dad", False), ("i need a gift idea", False)],
)
def test_asking_for_more_ideas(text, more):
    assert asks_for_more_ideas(text) is more


@pytest.mark.parametrize(
    "text, stop",
    [("no, forget it", True), ("never mind", True), ("nevermind, thanks", True), ("no thanks", True),
     ("nope", False), ("no idea", False), ("hmm", False), ("she's 9", False)],
)
def test_wanting_to_stop(text, stop):
    assert wants_to_stop(text) is stop
