"""A shopper's holiday season in one message: orders, gifts, points earned, money back, thanks.

The season is the store's holiday purchase window (HOLIDAY_PURCHASE_START..END) that began most
recently. Every figure is read from the store's tables: orders placed in the window and not
cancelled, their gift orders, the points those orders earned under the loyalty rule
(LOYALTY_POINTS_PER_DOLLAR on the items, doubled on double-points days), and what came back to
the shopper (refunds issued or approved on those orders, and store credit given in the window).
The store's exports hold no gift recipient's name and no sale-price savings, so the recap names
the gifts by what was in them and counts money back rather than guessing at "saved".
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.engagement.holiday_calendar import holiday_season, is_double_points_day
from bot.policies import LOYALTY_POINTS_PER_DOLLAR
from bot.settings import Settings
from bot.store.models import Customer, GoodwillGesture, Order, Refund

NOT_COUNTED = ("cancelled",)
MONEY_BACK_STATUSES = ("approved", "issued")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Recap:
    first_name: str
    season_start: dt.date
    season_end: dt.date
    orders: int
    spent: Decimal
    gifts: int
    gift_items: tuple[str, ...]
    points: int
    money_back: Decimal


def season_for(today: dt.date, settings: Settings) -> tuple[dt.date, dt.date]:
    """The holiday purchase window that began most recently (this one while it is on)."""
    season = holiday_season(today.year, settings)
    if season.purchase_start > today:
        season = holiday_season(today.year - 1, settings)
    return season.purchase_start, season.purchase_end


# When the season's recap goes out to a shopper who asked for theirs during the season.
RECAP_SEND_TIME = dt.time(10, 0)


def recap_send_at(today: dt.date, settings: Settings) -> dt.datetime | None:
    """The morning after the season that is on today; None outside the season."""
    start, end = season_for(today, settings)
    if not start <= today <= end:
        return None
    return dt.datetime.combine(end + dt.timedelta(days=1), RECAP_SEND_TIME)


def points_for(order: Order, settings: Settings) -> int:
    """What an order earned: LOYALTY_POINTS_PER_DOLLAR on its items, doubled on a double-points day."""
    points = int(order.items_total * LOYALTY_POINTS_PER_DOLLAR)
    return points * 2 if is_double_points_day(order.placed_at.date(), settings) else points


def season_orders(session: Session, customer_id: int, start: dt.date, end: dt.date) -> list[Order]:
    return list(
        session.execute(
            select(Order)
            .where(
                Order.customer_id == customer_id,
                Order.placed_at >= dt.datetime.combine(start, dt.time.min),
                Order.placed_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min),
                Order.status.not_in(NOT_COUNTED),
            )
            .order_by(Order.placed_at)
        ).scalars()
    )


def money_back(session: Session, customer_id: int, orders: list[Order], start: dt.date, end: dt.date) -> Decimal:
    """Refunds issued or approved on the season's orders, and store credit given in the season."""
    refunded = session.execute(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.order_id.in_([o.id for o in orders]), Refund.status.in_(MONEY_BACK_STATUSES)
        )
    ).scalar_one()
    credited = session.execute(
        select(func.coalesce(func.sum(GoodwillGesture.value), 0)).where(
            GoodwillGesture.customer_id == customer_id,
            GoodwillGesture.kind == "store_credit",
            GoodwillGesture.created_at >= dt.datetime.combine(start, dt.time.min),
            GoodwillGesture.created_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min),
        )
    ).scalar_one()
    return (Decimal(refunded) + Decimal(credited)).quantize(Decimal("0.01"))


def holiday_recap(session: Session, customer_id: int, today: dt.date, settings: Settings) -> Recap:
    customer = session.get(Customer, customer_id)
    start, end = season_for(today, settings)
    orders = season_orders(session, customer_id, start, end)
    gifts = [o for o in orders if o.is_gift]
    return Recap(
        first_name=customer.first_name,
        season_start=start,
        season_end=end,
        orders=len(orders),
        spent=sum((o.total_paid for o in orders), ZERO),
        gifts=len(gifts),
        gift_items=tuple(item.product.name for order in gifts for item in order.items),
        points=sum(points_for(o, settings) for o in orders),
        money_back=money_back(session, customer_id, orders, start, end),
    )
