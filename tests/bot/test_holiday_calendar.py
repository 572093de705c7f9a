"""The holiday calendar on fixed dates across the year: the answers a shopper gets must be
right in June, on Black Friday, the week before Christmas, after Christmas and in January."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from bot.engagement import holiday_calendar as cal
from bot.engagement.holiday_calendar import FAQ_PLACEHOLDERS, faq_values
from bot.policies import PAYMENT_METHODS

D = dt.date


@pytest.fixture
def cal_settings(settings):
    """The store's settings with the calendar pinned, so the dates below are fixed."""
    return dataclasses.replace(
        settings,
        christmas_delivery_day=(12, 24),
        shipping_transit_days=(("standard", 5), ("express", 2), ("overnight", 1)),
        order_processing_days=1,
        carrier_holidays=("01-01", "thanksgiving", "12-25"),
        holiday_sale_start="black_friday",
        holiday_sale_end="cyber_monday",
        double_points_days=("black_friday", "cyber_monday", "12-01", "12-02", "12-03"),
        holiday_purchase_start=(11, 1),
        holiday_purchase_end=(12, 31),
        holiday_return_until=(1, 31),
        standard_return_days=30,
        holiday_support_hours=(("thanksgiving", "closed"), ("12-24", "8am-2pm"), ("12-25", "closed")),
    )


def cutoffs_by_method(today, settings):
    return {c.method: c for c in cal.christmas_cutoffs(today, settings)}


# --- moving days ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "year, thanksgiving, black_friday, cyber_monday",
    [
        (2019, D(2019, 11, 28), D(2019, 11, 29), D(2019, 12, 2)),  # Nov 1 was a Friday
        (2024, D(2024, 11, 28), D(2024, 11, 29), D(2024, 12, 2)),
        (2025, D(2025, 11, 27), D(2025, 11, 28), D(2025, 12, 1)),
        (2026, D(2026, 11, 26), D(2026, 11, 27), D(2026, 11, 30)),
    ],
)
def test_black_friday_is_the_day_after_thanksgiving(year, thanksgiving, black_friday, cyber_monday):
    assert cal.thanksgiving(year) == thanksgiving
    assert cal.black_friday(year) == black_friday
    assert cal.cyber_monday(year) == cyber_monday


@pytest.mark.parametrize(
    "spec, year, expected",
    [
        ("12-24", 2025, D(2025, 12, 24)),
        ("black_friday-7", 2025, D(2025, 11, 21)),
        ("cyber_monday+1", 2025, D(2025, 12, 2)),
        ("02-29", 2025, D(2025, 2, 28)),
        ("02-29", 2028, D(2028, 2, 29)),
    ],
)
def test_day_specs(spec, year, expected):
    assert cal.resolve_day(spec, year) == expected


def test_a_bad_day_spec_is_refused_with_the_grammar():
    with pytest.raises(ValueError, match="MM-DD"):
        cal.resolve_day("christmas eve", 2025)


def test_a_passed_date_is_given_for_next_year():
    upcoming = cal.next_occurrence("black_friday", D(2025, 12, 2))
    assert upcoming.date == D(2026, 11, 27)
    assert upcoming.passed_this_year
    today = cal.next_occurrence("black_friday", D(2025, 11, 28))
    assert (today.date, today.days_until, today.passed_this_year) == (D(2025, 11, 28), 0, False)


# --- business days and delivery ---------------------------------------------------------------


def test_business_days_skip_weekends_and_carrier_holidays(cal_settings):
    assert cal.add_business_days(D(2025, 11, 21), 1, cal_settings) == D(2025, 11, 24)  # Fri -> Mon
    assert cal.add_business_days(D(2025, 12, 24), 1, cal_settings) == D(2025, 12, 26)  # over Christmas
    assert cal.add_business_days(D(2025, 11, 26), 1, cal_settings) == D(2025, 11, 28)  # over Thanksgiving
    assert cal.add_business_days(D(2025, 11, 22), 0, cal_settings) == D(2025, 11, 24)


def test_a_weekend_order_arrives_with_fridays(cal_settings):
    friday = cal.estimated_delivery(D(2025, 12, 12), "standard", cal_settings)
    assert cal.estimated_delivery(D(2025, 12, 13), "standard", cal_settings) == friday
    assert cal.estimated_delivery(D(2025, 12, 14), "standard", cal_settings) == friday
    assert friday == D(2025, 12, 22)  # ships Mon 15th, 5 business days


def test_faster_methods_arrive_sooner(cal_settings):
    placed = D(2025, 12, 10)
    standard, express, overnight = (
        cal.estimated_delivery(placed, m, cal_settings) for m in ("standard", "express", "overnight")
    )
    assert overnight < express < standard


def test_unknown_shipping_method_is_refused(cal_settings):
    with pytest.raises(ValueError, match="unknown shipping method"):
        cal.estimated_delivery(D(2025, 12, 1), "pigeon", cal_settings)


# --- Christmas cut-offs -----------------------------------------------------------------------


def test_christmas_2025_cutoffs(cal_settings):
    cutoffs = cutoffs_by_method(D(2025, 12, 1), cal_settings)
    assert cutoffs["standard"].last_order_date == D(2025, 12, 16)
    assert cutoffs["express"].last_order_date == D(2025, 12, 21)  # Sunday: ships Monday with Friday's
    assert cutoffs["overnight"].last_order_date == D(2025, 12, 22)
    assert {c.delivery_by for c in cutoffs.values()} == {D(2025, 12, 24)}


@pytest.mark.parametrize("method", ["standard", "express", "overnight"])
@pytest.mark.parametrize("year", [2022, 2025, 2026, 2027])  # Dec 24 on Sat, Wed, Thu, Fri
def test_cutoff_is_the_last_day_that_still_arrives(cal_settings, method, year):
    target = D(year, 12, 24)
    last = cal.last_order_date(method, target, cal_settings)
    assert cal.arrives_by(last, method, target, cal_settings)
    assert not cal.arrives_by(last + dt.timedelta(days=1), method, target, cal_settings)


def test_cutoff_boundary_days_left(cal_settings):
    on_the_day = cutoffs_by_method(D(2025, 12, 16), cal_settings)["standard"]
    assert (on_the_day.days_left, on_the_day.still_possible) == (0, True)
    day_after = cutoffs_by_method(D(2025, 12, 17), cal_settings)["standard"]
    assert (day_after.days_left, day_after.still_possible) == (-1, False)


def test_a_carrier_holiday_from_settings_moves_the_cutoff(cal_settings):
    closed_tuesday = dataclasses.replace(cal_settings, carrier_holidays=(*cal_settings.carrier_holidays, "12-23"))
    # Monday's orders would ship on the 24th: the last overnight order moves to Sunday.
    assert cutoffs_by_method(D(2025, 12, 1), closed_tuesday)["overnight"].last_order_date == D(2025, 12, 21)


def test_the_delivery_day_comes_from_settings(cal_settings):
    christmas_day = dataclasses.replace(cal_settings, christmas_delivery_day=(12, 23))
    assert cutoffs_by_method(D(2025, 12, 1), christmas_day)["overnight"].last_order_date == D(2025, 12, 21)


@pytest.mark.parametrize(
    "today, delivery_by, possible",
    [
        (D(2026, 1, 15), D(2026, 12, 24), {"standard", "express", "overnight"}),
        (D(2025, 6, 1), D(2025, 12, 24), {"standard", "express", "overnight"}),
        (D(2025, 11, 20), D(2025, 12, 24), {"standard", "express", "overnight"}),
        (D(2025, 11, 28), D(2025, 12, 24), {"standard", "express", "overnight"}),
        (D(2025, 12, 20), D(2025, 12, 24), {"express", "overnight"}),
        (D(2025, 12, 23), D(2025, 12, 24), set()),
        (D(2025, 12, 24), D(2025, 12, 24), set()),
        (D(2025, 12, 26), D(2026, 12, 24), {"standard", "express", "overnight"}),
        (D(2025, 12, 31), D(2026, 12, 24), {"standard", "express", "overnight"}),
    ],
)
def test_cutoffs_across_the_year(cal_settings, today, delivery_by, possible):
    cutoffs = cal.christmas_cutoffs(today, cal_settings)
    assert {c.delivery_by for c in cutoffs} == {delivery_by}
    assert {c.method for c in cutoffs if c.still_possible} == possible
    assert all(c.still_possible == (c.last_order_date >= today) for c in cutoffs)


def test_shipping_text_on_december_20_names_what_is_still_possible(cal_settings):
    text = faq_values(D(2025, 12, 20), cal_settings)["shipping_cutoffs"]
    assert "Standard (5 business days): too late" in text
    assert "Express (2 business days): order by Sunday, December 21 (1 day left)" in text
    assert "Overnight (1 business day): order by Monday, December 22 (2 days left)" in text


def test_shipping_text_when_every_cutoff_has_passed_offers_an_e_gift_card(cal_settings):
    text = faq_values(D(2025, 12, 23), cal_settings)["shipping_cutoffs"]
    assert text.startswith("It's too late for delivery by Wednesday, December 24, 2025")
    assert "e-gift card" in text


def test_shipping_text_after_christmas_gives_next_years_dates(cal_settings):
    text = faq_values(D(2025, 12, 26), cal_settings)["shipping_cutoffs"]
    assert "This year's Christmas deliveries are done" in text
    assert "order by Wednesday, December 16, 2026" in text


def test_shipping_text_on_the_last_day(cal_settings):
    assert "(today is the last day)" in faq_values(D(2025, 12, 16), cal_settings)["shipping_cutoffs"]


# --- the holiday sale ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "today, status, start, end, passed",
    [
        (D(2025, 6, 1), "upcoming", D(2025, 11, 28), D(2025, 12, 1), False),
        (D(2025, 11, 20), "upcoming", D(2025, 11, 28), D(2025, 12, 1), False),
        (D(2025, 11, 28), "on", D(2025, 11, 28), D(2025, 12, 1), False),
        (D(2025, 12, 1), "on", D(2025, 11, 28), D(2025, 12, 1), False),
        (D(2025, 12, 2), "upcoming", D(2026, 11, 27), D(2026, 11, 30), True),
        (D(2025, 12, 31), "upcoming", D(2026, 11, 27), D(2026, 11, 30), True),
        (D(2026, 1, 15), "upcoming", D(2026, 11, 27), D(2026, 11, 30), False),
    ],
)
def test_holiday_sale_across_the_year(cal_settings, today, status, start, end, passed):
    sale = cal.holiday_sale(today, cal_settings)
    assert (sale.status, sale.start, sale.end, sale.passed_this_year) == (status, start, end, passed)


def test_sale_text(cal_settings):
    assert faq_values(D(2025, 11, 20), cal_settings)["sale_dates"] == (
        "Friday, November 28 – Monday, December 1, 2025 (starts in 8 days)"
    )
    assert faq_values(D(2025, 12, 1), cal_settings)["sale_dates"].endswith("(today is the last day)")
    assert faq_values(D(2025, 12, 20), cal_settings)["sale_dates"] == (
        "over for 2025; next year it runs Friday, November 27 – Monday, November 30, 2026"
    )


def test_sale_reminder_goes_out_on_the_first_morning_of_the_next_sale(cal_settings):
    assert cal.sale_reminder_at(D(2025, 11, 20), cal_settings) == dt.datetime(2025, 11, 28, 9, 0)
    assert cal.sale_reminder_at(D(2025, 11, 28), cal_settings) is None
    assert cal.sale_reminder_at(D(2025, 12, 20), cal_settings) == dt.datetime(2026, 11, 27, 9, 0)


def test_sale_window_from_settings_may_span_new_year(cal_settings):
    boxing_week = dataclasses.replace(cal_settings, holiday_sale_start="12-26", holiday_sale_end="01-05")
    sale = cal.holiday_sale(D(2026, 1, 3), boxing_week)
    assert (sale.status, sale.start, sale.end, sale.days_left) == ("on", D(2025, 12, 26), D(2026, 1, 5), 2)


def test_sale_window_relative_to_black_friday(cal_settings):
    week_early = dataclasses.replace(cal_settings, holiday_sale_start="black_friday-7")
    assert cal.holiday_sale(D(2025, 11, 21), week_early).status == "on"


# --- double points ------------------------------------------------------------------------


def test_double_points_days_count_cyber_monday_on_december_1_once(cal_settings):
    assert cal.double_points_days(2025, cal_settings) == [
        D(2025, 11, 28), D(2025, 12, 1), D(2025, 12, 2), D(2025, 12, 3)
    ]
    assert len(cal.double_points_days(2026, cal_settings)) == 5  # Cyber Monday is Nov 30


def test_upcoming_double_points_roll_into_next_year(cal_settings):
    assert cal.upcoming_double_points_days(D(2025, 12, 2), cal_settings) == [D(2025, 12, 2), D(2025, 12, 3), D(2026, 11, 27)]
    assert cal.upcoming_double_points_days(D(2025, 12, 26), cal_settings)[0] == D(2026, 11, 27)
    assert cal.is_double_points_day(D(2025, 11, 28), cal_settings)
    assert not cal.is_double_points_day(D(2025, 11, 29), cal_settings)


# --- holiday returns ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "today, until, bought_from",
    [
        (D(2025, 6, 1), D(2026, 1, 31), D(2025, 11, 1)),
        (D(2025, 12, 26), D(2026, 1, 31), D(2025, 11, 1)),
        (D(2026, 1, 15), D(2026, 1, 31), D(2025, 11, 1)),  # last season's returns are still open
        (D(2026, 1, 31), D(2026, 1, 31), D(2025, 11, 1)),
        (D(2026, 2, 1), D(2027, 1, 31), D(2026, 11, 1)),
    ],
)
def test_holiday_return_window_for_the_season_that_matters(cal_settings, today, until, bought_from):
    window = cal.holiday_return_window(today, cal_settings)
    assert (window.return_until, window.purchase_start) == (until, bought_from)


def test_holiday_return_text(cal_settings):
    assert faq_values(D(2026, 1, 15), cal_settings)["holiday_return_until"] == (
        "January 31, 2026 (for purchases made November 1 – December 31, 2025)"
    )


# --- support hours ------------------------------------------------------------------------


def test_support_hours_on_special_days(cal_settings):
    assert cal.support_hours_on(D(2025, 12, 25), cal_settings) == "closed"
    assert cal.support_hours_on(D(2025, 11, 27), cal_settings) == "closed"  # Thanksgiving
    assert cal.support_hours_on(D(2025, 12, 22), cal_settings) == cal_settings.support_hours


def test_holiday_hours_text_lists_the_next_special_days_first(cal_settings):
    text = faq_values(D(2025, 12, 24), cal_settings)["holiday_hours"]
    assert text.startswith(f"Regular hours: {cal_settings.support_hours}.")
    assert text.index("today, Wednesday, December 24: 8am-2pm") < text.index("December 25: closed")
    assert "Thursday, November 26, 2026: closed" in text


# --- the FAQ ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "today",
    [D(2026, 1, 15), D(2025, 6, 1), D(2025, 11, 20), D(2025, 11, 28), D(2025, 12, 20),
     D(2025, 12, 23), D(2025, 12, 26), D(2025, 12, 31)],
)
def test_faq_values_fill_every_placeholder_on_any_day(cal_settings, today):
    values = faq_values(today, cal_settings)
    assert tuple(values) == FAQ_PLACEHOLDERS
    assert {"gift_wrap_price", "holiday_return_until", "standard_return_days", "sale_dates",
            "shipping_cutoffs", "holiday_hours", "payment_methods"} <= set(values)
    assert all(isinstance(v, str) and v.strip() for v in values.values())
    assert values["standard_return_days"] == str(cal_settings.standard_return_days)
    assert all(method in values["payment_methods"] for method in PAYMENT_METHODS)


def test_gift_wrap_price_follows_settings(cal_settings):
    assert faq_values(D(2025, 12, 1), cal_settings)["gift_wrap_price"] == "$4.99"
    cheaper = dataclasses.replace(cal_settings, gift_wrap_price=Decimal("3.5"))
    assert faq_values(D(2025, 12, 1), cheaper)["gift_wrap_price"] == "$3.50"
    free = dataclasses.replace(cal_settings, gift_wrap_price=Decimal("0"))
    assert faq_values(D(2025, 12, 1), free)["gift_wrap_price"] == "free"


def test_settings_parse_calendar_variables():
    from bot.settings import load_settings

    loaded = load_settings(
        {
            "SHIPPING_TRANSIT_DAYS": "standard=6, express=3",
            "CARRIER_HOLIDAYS": "01-01, 12-26",
            "HOLIDAY_SUPPORT_HOURS": "12-24=9am-1pm; 12-25=closed",
            "GIFT_WRAP_PRICE": "5.00",
            "LOYALTY_TIERS": "Silver=100,Gold=900",
        }
    )
    assert loaded.shipping_transit_days == (("standard", 6), ("express", 3))
    assert loaded.carrier_holidays == ("01-01", "12-26")
    assert loaded.holiday_support_hours == (("12-24", "9am-1pm"), ("12-25", "closed"))
    assert loaded.gift_wrap_price == Decimal("5.00")
    assert loaded.loyalty_tiers == (("Silver", 100), ("Gold", 900))
    assert load_settings({}).gift_wrap_price is None
