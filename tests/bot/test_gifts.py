"""Gift ideas: right age, in stock, within budget, best interest match first, and honest
near misses when nothing fits."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from bot.gifting.catalog import product_url
from bot.gifting.gift_request import GiftRequest, parse_gift_request
from bot.gifting.gifts import recommend
from tests.factories import make_product


@pytest.fixture
def gift_settings(settings):
    return dataclasses.replace(settings, gift_over_budget_tolerance=Decimal("0.25"))


@pytest.fixture
def catalog(store):
    """A small shop; returns {short name: product id}."""
    with store.session() as s:
        rows = {
            "art_science_kit": make_product(s, "Art & Science Lab", "35.00", tags=("art", "science"), min_age=8, max_age=14),
            "watercolors": make_product(s, "Watercolor Set, 24 colours", "24.00", tags=("art",), min_age=6, max_age=14),
            "sketchbook": make_product(s, "Sketchbook", "12.00", tags=("art",), min_age=8),
            "easel": make_product(s, "Tabletop Easel", "45.00", tags=("art",), min_age=8),
            "sold_out_paints": make_product(s, "Acrylic Paints", "30.00", stock=0, tags=("art",), min_age=6, max_age=14),
            "football": make_product(s, "Size 4 Football", "30.00", tags=("football", "sports"), min_age=5),
            "dino_puzzle": make_product(s, "Dino Puzzle", "18.00", tags=("dinosaurs", "puzzles"), min_age=4, max_age=10),
            "rattle": make_product(s, "Wooden Rattle", "15.00", tags=("baby",), min_age=0, max_age=2),
            "wine_glasses": make_product(s, "Wine Glasses (pair)", "40.00", tags=("wine",), min_age=21),
            "hoodie_s": make_product(s, "Art Club Hoodie", "38.00", style="HOODIE", size="S", tags=("art", "fashion"), min_age=8),
            "hoodie_m": make_product(s, "Art Club Hoodie", "38.00", style="HOODIE", size="M", tags=("art", "fashion"), min_age=8),
        }
        return {name: p.id for name, p in rows.items()}


def ideas(store, request, settings, **kwargs):
    with store.session() as s:
        return recommend(s, request, settings, **kwargs)


def niece(**fields):
    base = dict(relationship="niece", pronoun="she", age=10, interests=["art"], budget=Decimal("40.00"))
    return GiftRequest(**{**base, **fields})


def test_best_match_first_then_closest_to_budget(store, catalog, gift_settings):
    result = ideas(store, niece(), gift_settings)
    assert result.fits and result.message == ""
    assert [i.product_id for i in result.ideas] == [catalog["hoodie_s"], catalog["art_science_kit"], catalog["watercolors"]]
    assert all(i.price <= Decimal("40.00") and not i.is_closest for i in result.ideas)
    assert result.has_more


def test_more_interests_matched_ranks_higher(store, catalog, gift_settings):
    result = ideas(store, niece(interests=["art", "science"]), gift_settings)
    assert result.ideas[0].product_id == catalog["art_science_kit"]
    assert result.ideas[0].matched_interests == ("art", "science")


def test_each_idea_has_price_link_and_a_reason(store, catalog, gift_settings):
    idea = ideas(store, niece(interests=["art", "science"]), gift_settings).ideas[0]
    assert idea.price == Decimal("35.00")
    with store.session() as s:
        from bot.store.models import Product

        assert idea.url == product_url(s.get(Product, catalog["art_science_kit"]), gift_settings)
    assert idea.url.startswith(gift_settings.store_url)
    assert idea.reason == "she loves art and science: Art & Science Lab"


def test_never_out_of_stock_never_outside_the_age(store, catalog, gift_settings):
    everything = ideas(store, niece(budget=None), gift_settings, limit=50)
    shown = {i.product_id for i in everything.ideas}
    assert catalog["sold_out_paints"] not in shown
    assert catalog["rattle"] not in shown and catalog["wine_glasses"] not in shown
    six_year_old = ideas(store, niece(age=6, budget=None), gift_settings, limit=50)
    assert {i.product_id for i in six_year_old.ideas} == {catalog["watercolors"]}


def test_sizes_of_one_design_are_one_idea(store, catalog, gift_settings):
    result = ideas(store, niece(budget=None), gift_settings, limit=50)
    hoodies = {catalog["hoodie_s"], catalog["hoodie_m"]} & {i.product_id for i in result.ideas}
    assert len(hoodies) == 1


def test_more_ideas_never_repeat_and_then_offer_near_misses(store, catalog, gift_settings):
    first = ideas(store, niece(), gift_settings, limit=2)
    second = ideas(store, niece(), gift_settings, exclude_ids=first.shown_ids, limit=2)
    assert not {i.product_id for i in first.ideas} & {i.product_id for i in second.ideas}
    assert [i.product_id for i in second.ideas] == [catalog["watercolors"], catalog["sketchbook"]]
    assert set(second.shown_ids) == set(first.shown_ids) | {catalog["watercolors"], catalog["sketchbook"]}
    third = ideas(store, niece(), gift_settings, exclude_ids=second.shown_ids, limit=2)
    assert third.reason == "no_more_ideas"
    assert third.ideas[0].product_id == catalog["easel"]
    assert third.ideas[0].over_budget_by == Decimal("5.00")
    assert all(i.is_closest for i in third.ideas)
    assert [i.other_interest for i in third.ideas] == [False, True]
    assert "$5.00 over your budget" in third.ideas[0].reason


def test_nothing_in_budget_offers_the_closest_slightly_over(store, catalog, gift_settings):
    result = ideas(store, niece(budget=Decimal("10.00")), gift_settings)
    assert result.reason == "nothing_in_budget"
    assert [i.product_id for i in result.ideas] == [catalog["sketchbook"]]  # $12; the $24 set is too far over
    assert result.ideas[0].over_budget_by == Decimal("2.00") and result.ideas[0].is_closest
    assert "under $10.00" in result.message


def test_nothing_near_the_budget_suggests_a_gift_card(store, catalog, gift_settings):
    result = ideas(store, niece(budget=Decimal("5.00")), gift_settings)
    assert (result.reason, result.ideas) == ("nothing_in_budget", ())
    assert "gift card" in result.message


def test_over_budget_tolerance_comes_from_settings(store, catalog, gift_settings):
    generous = dataclasses.replace(gift_settings, gift_over_budget_tolerance=Decimal("1.50"))
    result = ideas(store, niece(budget=Decimal("10.00")), generous)
    assert [i.product_id for i in result.ideas] == [catalog["sketchbook"], catalog["watercolors"]]


def test_no_interest_match_offers_other_ideas_in_budget(store, catalog, gift_settings):
    result = ideas(store, niece(interests=["cooking"], budget=Decimal("30.00")), gift_settings)
    assert result.reason == "no_interest_match"
    assert result.ideas and all(i.other_interest and i.price <= Decimal("30.00") for i in result.ideas)
    assert "nothing for cooking" in result.message


def test_nothing_for_that_age(store, catalog, gift_settings):
    result = ideas(store, niece(age=3), gift_settings)
    assert (result.reason, result.ideas) == ("nothing_for_age", ())
    assert "a 3-year-old" in result.message and "gift card" in result.message


def test_sold_out_for_that_age_says_so(store, gift_settings):
    with store.session() as s:
        make_product(s, "Teether", "9.00", stock=0, min_age=0, max_age=1)
    result = ideas(store, niece(age=0, interests=[]), gift_settings)
    assert result.reason == "nothing_for_age"
    assert "sold out" in result.message


def test_unknown_interests_rank_by_budget(store, catalog, gift_settings):
    result = ideas(store, niece(interests=[], interests_unknown=True, budget=Decimal("30.00")), gift_settings)
    assert result.fits
    assert [i.price for i in result.ideas] == [Decimal("30.00"), Decimal("24.00"), Decimal("18.00")]
    assert result.ideas[0].reason.startswith("suits a 10-year-old")


def test_dislikes_are_never_suggested(store, catalog, gift_settings):
    result = ideas(store, niece(interests=[], dislikes=["sports"], budget=Decimal("30.00")), gift_settings, limit=50)
    assert catalog["football"] not in {i.product_id for i in result.ideas}


def test_grown_ups_get_grown_up_gifts(store, catalog, gift_settings):
    request = parse_gift_request("for my wife who loves wine, under $50", {"wine"})
    assert [i.product_id for i in ideas(store, request, gift_settings).ideas] == [catalog["wine_glasses"]]
    child = parse_gift_request("for my 10 year old who loves wine, under $50", {"wine"})
    assert catalog["wine_glasses"] not in {i.product_id for i in ideas(store, child, gift_settings).ideas}


def test_empty_shop(store, gift_settings):
    result = ideas(store, GiftRequest(interests=["art"]), gift_settings)
    assert (result.reason, result.ideas) == ("nothing_in_stock", ())
