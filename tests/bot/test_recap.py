"""The holiday recap adds up from the database."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from bot.engagement import recap, reminders
from bot.engagement.holiday_calendar import black_friday, is_double_points_day
from bot.policies import LOYALTY_POINTS_PER_DOLLAR
from bot.store.models import GoodwillGesture, Order, OrderItem, Refund
from tests.factories import make_customer, make_order, make_product

TODAY = dt.date(2026, 12, 20)


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12))


def a_season_of_orders(store, settings) -> int:
    """Orders in and out of the season, a gift, a cancelled one, a refund and a credit."""
    with store.session() as s:
        customer = make_customer(s, name="Mia Park")
        scarf, mug = make_product(s, "Scarf", "40.00"), make_product(s, "Mug", "12.50")
        make_order(s, customer, [(scarf, 1)], placed_at=noon(black_friday(2026)), shipping_paid="5.00")
        gift = make_order(s, customer, [(mug, 2)], placed_at=noon(dt.date(2026, 12, 8)), is_gift=True)
        make_order(s, customer, [(scarf, 3)], placed_at=noon(dt.date(2026, 12, 9)), status="cancelled")
        make_order(s, customer, [(mug, 1)], placed_at=noon(dt.date(2026, 10, 2)))  # before the season
        s.add(Refund(order_id=gift.id, amount=Decimal("12.50"), reason="damaged", status="issued",
                     required_level="bot", idempotency_key="recap-test", created_at=noon(TODAY)))
        s.add(GoodwillGesture(incident_key="late_gift:x", incident="late_gift", kind="store_credit",
                              value=Decimal("10.00"), code="GW-TEST", customer_id=customer.id, level="bot",
                              granted_by="bot", created_at=noon(TODAY)))
        return customer.id


def test_the_recap_adds_up_from_the_database(store, settings):
    customer_id = a_season_of_orders(store, settings)
    with store.session() as s:
        season = recap.holiday_recap(s, customer_id, TODAY, settings)
        start, end = recap.season_for(TODAY, settings)
        in_season = (Order.customer_id == customer_id, Order.status != "cancelled",
                     Order.placed_at >= dt.datetime.combine(start, dt.time.min),
                     Order.placed_at <= dt.datetime.combine(end, dt.time.max))
        items = s.execute(select(func.sum(OrderItem.quantity * OrderItem.unit_price)).join(Order)
                          .where(*in_season)).scalar_one()
        shipping = s.execute(select(func.sum(Order.shipping_paid)).where(*in_season)).scalar_one()
        orders = s.execute(select(Order).where(*in_season).order_by(Order.placed_at)).scalars().all()
    assert (season.orders, season.gifts, season.gift_items) == (2, 1, ("Mug",))
    assert season.spent == Decimal(items) + Decimal(shipping) == Decimal("70.00")
    doubled = [is_double_points_day(o.placed_at.date(), settings) for o in orders]
    assert doubled == [True, False]  # Black Friday is a double-points day by default
    assert season.points == (40 * 2 + 25) * LOYALTY_POINTS_PER_DOLLAR
    assert season.money_back == Decimal("22.50")
    assert season.first_name == "Mia"


def test_before_this_years_season_the_recap_is_last_years(settings):
    start, end = recap.season_for(dt.date(2026, 6, 1), settings)
    assert start.year == 2025 and end >= start
    assert recap.season_for(dt.date(2027, 1, 5), settings)[0].year == 2026


def test_a_shopper_without_season_orders_gets_an_empty_recap(store, settings):
    with store.session() as s:
        customer = make_customer(s)
        season = recap.holiday_recap(s, customer.id, TODAY, dataclasses.replace(settings))
    assert (season.orders, season.spent, season.points, season.money_back) == (0, Decimal("0.00"), 0, Decimal("0.00"))


def test_asked_during_the_season_the_full_recap_is_due_the_morning_after_it(settings):
    start, end = recap.season_for(TODAY, settings)
    assert recap.recap_send_at(TODAY, settings) == dt.datetime.combine(end + dt.timedelta(days=1), recap.RECAP_SEND_TIME)
    assert recap.recap_send_at(dt.date(2026, 6, 1), settings) is None  # no season on


def test_the_after_season_recap_is_scheduled_once(store, settings):
    due = recap.recap_send_at(TODAY, settings)
    with store.session() as s:
        assert reminders.schedule_once(s, "web:r", "socketio", reminders.HOLIDAY_RECAP, due, noon(TODAY)) is True
        assert reminders.schedule_once(s, "web:r", "socketio", reminders.HOLIDAY_RECAP, due, noon(TODAY)) is False
        assert reminders.pending(s, "web:r", reminders.HOLIDAY_RECAP).due_at == due
