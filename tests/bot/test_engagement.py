"""Personal touches after a purchase (at most one, never during a complaint) and loyalty."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import update

from bot.engagement.touches import TouchContext, is_complaint, loyalty_summary, loyalty_tier, personal_touch
from bot.gifting.catalog import product_url
from bot.store.models import Customer, Product
from tests.factories import make_customer, make_order, make_product

TODAY = dt.date(2025, 12, 10)
CALM = TouchContext(conversation_id="c-1")


@pytest.fixture
def touch_settings(settings):
    return dataclasses.replace(
        settings,
        birthday_offer_window_days=14,
        first_order_thanks_days=30,
        replenish_reminder_window_days=7,
        loyalty_tiers=(("Member", 0), ("Silver", 500), ("Gold", 1500), ("Platinum", 5000)),
        double_points_days=("black_friday", "cyber_monday", "12-01", "12-02", "12-03"),
    )


def days_ago(days: int) -> dt.datetime:
    return dt.datetime.combine(TODAY - dt.timedelta(days=days), dt.time(10, 0))


def touch(store, customer_id, settings, context=CALM, today=TODAY):
    with store.session() as s:
        return personal_touch(s, s.get(Customer, customer_id), context, today, settings)


def shopper(store, **fields):
    with store.session() as s:
        return make_customer(s, name="Ana Lopez", **fields).id


# --- birthday -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "birthday, today, applies",
    [
        (dt.date(1990, 12, 10), TODAY, True),  # today
        (dt.date(1990, 12, 2), TODAY, True),  # earlier this month
        (dt.date(1990, 12, 30), TODAY, True),  # later this month
        (dt.date(1990, 1, 5), dt.date(2025, 12, 22), True),  # 14 days ahead, next month
        (dt.date(1990, 1, 6), dt.date(2025, 12, 22), False),  # 15 days ahead
        (dt.date(1990, 11, 30), TODAY, False),  # last month
        (None, TODAY, False),
    ],
)
def test_birthday_offer_window(store, touch_settings, birthday, today, applies):
    customer_id = shopper(store, birthday=birthday)
    result = touch(store, customer_id, touch_settings, today=today)
    assert (result is not None and result.kind == "birthday_offer") == applies


def test_birthday_texts(store, touch_settings):
    customer_id = shopper(store, birthday=dt.date(1990, 12, 10))
    assert touch(store, customer_id, touch_settings).text.startswith("Happy birthday, Ana!")
    assert "It's your birthday month" in touch(store, customer_id, touch_settings, today=dt.date(2025, 12, 20)).text
    assert "coming up on December 10" in touch(store, customer_id, touch_settings, today=dt.date(2025, 12, 1)).text


def test_leap_day_birthday_in_a_common_year(store, touch_settings):
    customer_id = shopper(store, birthday=dt.date(2000, 2, 29))
    assert touch(store, customer_id, touch_settings, today=dt.date(2025, 2, 28)).text.startswith("Happy birthday")


# --- never twice, never during a complaint -------------------------------------------------


def test_no_touch_during_a_complaint(store, touch_settings):
    customer_id = shopper(store, birthday=TODAY)
    assert touch(store, customer_id, touch_settings, context=TouchContext("c-1", in_complaint=True)) is None


def test_one_touch_per_conversation(store, touch_settings):
    customer_id = shopper(store, birthday=TODAY)
    assert touch(store, customer_id, touch_settings) is not None
    assert touch(store, customer_id, touch_settings, context=TouchContext("c-1", already_touched=True)) is None


# --- replenishment ------------------------------------------------------------------------


def buy(store, customer_id, product_id, days, status="delivered"):
    with store.session() as s:
        make_order(s, s.get(Customer, customer_id), items=[(s.get(Product, product_id), 1)], status=status, placed_at=days_ago(days))


def refill_product(store, **fields):
    with store.session() as s:
        return make_product(s, "Coffee Beans 1kg", "18.00", replenish_days=30, **fields).id


@pytest.mark.parametrize("days, due", [(22, False), (23, True), (30, True), (37, True), (38, False)])
def test_replenishment_is_due_about_a_cycle_after_purchase(store, touch_settings, days, due):
    customer_id, beans = shopper(store), refill_product(store)
    buy(store, customer_id, beans, days=90)  # an old first order, so no first-order thanks
    buy(store, customer_id, beans, days=days)
    result = touch(store, customer_id, touch_settings)
    assert (result is not None and result.kind == "replenish_reminder") == due


def test_replenishment_reminder_links_the_product(store, touch_settings):
    customer_id, beans = shopper(store), refill_product(store)
    buy(store, customer_id, beans, days=30)
    result = touch(store, customer_id, touch_settings)
    with store.session() as s:
        url = product_url(s.get(Product, beans), touch_settings)
    assert (result.kind, result.product_id, result.url) == ("replenish_reminder", beans, url)
    assert "Coffee Beans 1kg" in result.text and url in result.text


def test_no_reminder_when_bought_again_since(store, touch_settings):
    customer_id, beans = shopper(store), refill_product(store)
    buy(store, customer_id, beans, days=30)
    buy(store, customer_id, beans, days=3)
    result = touch(store, customer_id, touch_settings)
    assert result is None or result.kind != "replenish_reminder"


def test_no_reminder_for_cancelled_orders_or_sold_out_refills(store, touch_settings):
    customer_id, beans = shopper(store), refill_product(store)
    buy(store, customer_id, beans, days=30, status="cancelled")
    assert touch(store, customer_id, touch_settings) is None
    other_id, sold_out = shopper(store), refill_product(store, stock=0)
    buy(store, other_id, sold_out, days=30)
    result = touch(store, other_id, touch_settings)
    assert result is None or result.kind != "replenish_reminder"


def test_birthday_comes_before_a_refill(store, touch_settings):
    customer_id, beans = shopper(store, birthday=TODAY), refill_product(store)
    buy(store, customer_id, beans, days=30)
    assert touch(store, customer_id, touch_settings).kind == "birthday_offer"


# --- first order and complements -------------------------------------------------------------


def test_first_order_thanks(store, touch_settings):
    customer_id = shopper(store)
    with store.session() as s:
        mug = make_product(s, "Mug").id
    buy(store, customer_id, mug, days=5)
    result = touch(store, customer_id, touch_settings)
    assert result.kind == "first_order_thanks"
    assert touch_settings.store_name in result.text and "Ana" in result.text


def test_no_first_order_thanks_for_an_old_or_second_order(store, touch_settings):
    customer_id = shopper(store)
    with store.session() as s:
        mug = make_product(s, "Mug").id
    buy(store, customer_id, mug, days=touch_settings.first_order_thanks_days + 1)
    assert touch(store, customer_id, touch_settings) is None
    buy(store, customer_id, mug, days=2)
    assert touch(store, customer_id, touch_settings) is None


def complement_pair(store):
    with store.session() as s:
        mug = make_product(s, "Tinsel Mug", "12.00")
        cocoa = make_product(s, "Hot Cocoa Tin", "8.00")
        mug.complements.append(cocoa)
        return mug.id, cocoa.id


def test_complement_for_the_last_order(store, touch_settings):
    customer_id = shopper(store)
    mug, cocoa = complement_pair(store)
    buy(store, customer_id, mug, days=60)
    buy(store, customer_id, mug, days=40)
    result = touch(store, customer_id, touch_settings)
    assert (result.kind, result.product_id) == ("complement", cocoa)
    assert "Hot Cocoa Tin ($8.00) goes nicely with your Tinsel Mug" in result.text


def test_no_complement_they_already_bought(store, touch_settings):
    customer_id = shopper(store)
    mug, cocoa = complement_pair(store)
    buy(store, customer_id, cocoa, days=80)
    buy(store, customer_id, mug, days=40)
    assert touch(store, customer_id, touch_settings) is None


def test_a_customer_without_orders_gets_nothing(store, touch_settings):
    assert touch(store, shopper(store), touch_settings) is None


# --- loyalty ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "points, tier, next_tier, to_next",
    [
        (0, "Member", "Silver", 500),
        (499, "Member", "Silver", 1),
        (500, "Silver", "Gold", 1000),
        (1499, "Silver", "Gold", 1),
        (4999, "Gold", "Platinum", 1),
        (5000, "Platinum", None, None),
        (99999, "Platinum", None, None),
    ],
)
def test_loyalty_tiers(touch_settings, points, tier, next_tier, to_next):
    assert loyalty_tier(points, touch_settings) == (tier, next_tier, to_next)


def test_tiers_come_from_settings(touch_settings):
    two_tiers = dataclasses.replace(touch_settings, loyalty_tiers=(("Gold", 100), ("Silver", 10)))
    assert loyalty_tier(5, two_tiers) == ("Member", "Silver", 5)
    assert loyalty_tier(50, two_tiers) == ("Silver", "Gold", 50)


def test_loyalty_summary_reads_points_from_the_database(store, touch_settings):
    customer_id = shopper(store, loyalty_points=1200)
    with store.session() as s:
        customer = s.get(Customer, customer_id)
        s.execute(update(Customer).where(Customer.id == customer_id).values(loyalty_points=1600))
        summary = loyalty_summary(s, customer, dt.date(2025, 11, 20), touch_settings)
    assert (summary.points, summary.tier, summary.next_tier, summary.points_to_next_tier) == (1600, "Gold", "Platinum", 3400)
    assert summary.upcoming_double_points_days == (dt.date(2025, 11, 28), dt.date(2025, 12, 1), dt.date(2025, 12, 2))
    assert not summary.double_points_today
    assert summary.text.startswith("You have 1,600 points: Gold tier. 3,400 more to reach Platinum.")
    assert "Friday, November 28" in summary.text


def test_loyalty_summary_on_a_double_points_day(store, touch_settings):
    customer_id = shopper(store, loyalty_points=10)
    with store.session() as s:
        summary = loyalty_summary(s, customer_id, dt.date(2025, 12, 3), touch_settings)
    assert summary.double_points_today and "Today is a double-points day!" in summary.text
    assert summary.upcoming_double_points_days[0] == dt.date(2026, 11, 27)


# --- what counts as a complaint ----------------------------------------------------------------


def conversation(**overrides) -> dict:
    calm = dict(order_status="delivered", purpose="track", intents=["greet", "track_order"],
                shopper_texts=["hi", "where is my order?"], return_reason=None, has_open_ticket=False)
    return {**calm, **overrides}


@pytest.mark.parametrize("overrides", [
    {},
    {"purpose": "return", "intents": ["return_item"], "return_reason": "wrong_size"},
    {"purpose": "return", "intents": ["return_item"], "return_reason": "unwanted_gift"},
    {"purpose": "exchange", "intents": ["exchange_item"], "return_reason": "changed_mind"},
])
def test_a_lookup_or_an_ordinary_return_is_no_complaint(overrides):
    assert not is_complaint(**conversation(**overrides))


@pytest.mark.parametrize("overrides", [
    {"order_status": "delayed"},
    {"has_open_ticket": True},
    {"purpose": "refund"},
    {"intents": ["track_order", "report_problem"]},
    {"intents": ["human_handoff"]},
    {"shopper_texts": ["this is ridiculous"]},
    {"purpose": "return", "intents": ["return_item"], "return_reason": "damaged"},
    {"return_reason": "not_as_described"},
    {"purpose": "return", "intents": ["return_item"], "return_reason": None},
])
def test_faults_anger_refunds_and_handoffs_are_complaints(overrides):
    assert is_complaint(**conversation(**overrides))
