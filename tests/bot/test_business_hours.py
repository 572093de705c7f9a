"""The desk's hours, read from the same SUPPORT_HOURS and HOLIDAY_SUPPORT_HOURS texts the FAQ shows."""
from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from bot.engagement.holiday_calendar import resolve_day
from bot.settings import load_settings
from bot.support import business_hours

NEW_YORK = ZoneInfo("America/New_York")


def store_clock(year, month, day, hour, minute=0, zone=NEW_YORK) -> dt.datetime:
    """A wall-clock time somewhere, as the store's clock (the server's local time, no zone) reads it."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone).astimezone().replace(tzinfo=None)


@pytest.fixture
def defaults():
    return load_settings({})


def test_the_default_hours_parse_into_weekday_and_weekend_openings(defaults):
    weekdays, weekend = business_hours.parse_hours(defaults.support_hours)
    assert weekdays.days == frozenset(range(5)) and (weekdays.opens, weekdays.closes) == (dt.time(8), dt.time(20))
    assert weekend.days == frozenset({5, 6}) and (weekend.opens, weekend.closes) == (dt.time(9), dt.time(17))
    assert weekdays.zone_label == weekend.zone_label == "ET"


@pytest.mark.parametrize("text, days, opens, closes", [
    ("Mon-Fri 9:30am-5:15pm PT", frozenset(range(5)), dt.time(9, 30), dt.time(17, 15)),
    ("saturday 10-14 utc", frozenset({5}), dt.time(10), dt.time(14)),
    ("Fri-Mon 12pm-12am CT", frozenset({4, 5, 6, 0}), dt.time(12), dt.time(0)),
    ("8am-2pm ET", business_hours.EVERY_DAY, dt.time(8), dt.time(14)),
])
def test_hours_written_in_other_ways(text, days, opens, closes):
    [opening] = business_hours.parse_hours(text)
    assert (opening.days, opening.opens, opening.closes) == (days, opens, closes)


@pytest.mark.parametrize("text", ["closed", "Closed", ""])
def test_closed_has_no_openings(text):
    assert business_hours.parse_hours(text) == ()


@pytest.mark.parametrize("text", ["whenever", "Monday 9am-5pm Mars", "Funday 9am-5pm ET", "9am to 5pm"])
def test_hours_it_cannot_read_fail_loudly_rather_than_closing_the_desk(text):
    with pytest.raises(ValueError):
        business_hours.parse_hours(text)


def test_open_on_a_weekday_afternoon_in_new_york_whatever_the_servers_zone(defaults):
    assert business_hours.is_open(store_clock(2026, 12, 8, 14), defaults)  # Tuesday 2pm ET
    assert not business_hours.is_open(store_clock(2026, 12, 8, 7, 59), defaults)
    assert not business_hours.is_open(store_clock(2026, 12, 8, 20), defaults)  # closes at 8pm, exclusive


def test_closed_on_thanksgiving_and_shorter_on_christmas_eve(defaults):
    thanksgiving = resolve_day("thanksgiving", 2026)
    assert not business_hours.is_open(store_clock(2026, 11, thanksgiving.day, 14), defaults)
    assert business_hours.is_open(store_clock(2026, 12, 24, 13), defaults)  # 8am-2pm ET
    assert not business_hours.is_open(store_clock(2026, 12, 24, 15), defaults)


def test_next_opening_after_christmas_eve_skips_christmas_day(defaults):
    opening = business_hours.next_opening(store_clock(2026, 12, 24, 15), defaults)
    assert opening.at == store_clock(2026, 12, 26, 9)  # a Saturday: weekend hours
    assert opening.when == "Saturday, December 26 at 9am ET"


def test_next_opening_says_today_and_tomorrow_in_the_desks_own_day(defaults):
    assert business_hours.next_opening(store_clock(2026, 12, 8, 6), defaults).when == "today at 8am ET"
    # 11pm in New York is already the next day in UTC; the desk's day is New York's.
    assert business_hours.next_opening(store_clock(2026, 12, 8, 23), defaults).when == "tomorrow at 8am ET"


def test_no_next_opening_while_open_or_when_closed_for_weeks(defaults):
    assert business_hours.next_opening(store_clock(2026, 12, 8, 14), defaults) is None
    shut = dataclasses.replace(defaults, support_hours="closed")
    assert business_hours.next_opening(store_clock(2026, 12, 8, 14), shut) is None


@hypothesis_settings(max_examples=150, deadline=None)
@given(st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2028, 12, 31)))
def test_the_next_opening_is_open_and_nothing_before_it_is(at):
    defaults = load_settings({})
    opening = business_hours.next_opening(at, defaults)
    if opening is None:
        assert business_hours.is_open(at, defaults)
        return
    assert opening.at > at and business_hours.is_open(opening.at, defaults)
    assert not business_hours.is_open(opening.at - dt.timedelta(minutes=1), defaults)
