"""Post-purchase engagement: one personal touch at the right moment, and the loyalty summary.

A shopper gets at most one touch per conversation and none while they are complaining: a
birthday discount in the middle of a refund dispute reads as tone-deaf. The once-per-
conversation guard is passed in (TouchContext.already_touched), kept by the action in a slot
only actions set; the conversation's own tracker is the natural home for a per-chat flag,
and no table is needed for it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.engagement.holiday_calendar import is_double_points_day, upcoming_double_points_days
from bot.gifting.catalog import complement_for, product_url
from bot.policies import BIRTHDAY_DISCOUNT_PERCENT, format_date, format_money, join_words
from bot.settings import Settings
from bot.store.models import Customer, Order, OrderItem
from bot.support.frustration import is_frustrated

NOT_COUNTED_STATUSES = ("cancelled", "returned")
TOUCH_KINDS = ("birthday_offer", "replenish_reminder", "first_order_thanks", "complement")
BASE_TIER = "Member"  # the name below every configured threshold


# What makes a conversation a complaint, where no personal touch belongs.
COMPLAINT_INTENTS = ("request_refund", "refund_status", "report_problem", "human_handoff")
RETURN_INTENTS = ("return_item", "exchange_item")
COMPLAINT_PURPOSES = ("refund", "refund_status", "problem")
COMPLAINT_ORDER_STATUSES = ("delayed",)
# Return reasons that say the store got something wrong; the others (wrong size, an unwanted
# gift, a change of mind) are ordinary returns, after which a touch is still welcome.
FAULT_RETURN_REASONS = ("damaged", "not_as_described", "late")


def is_complaint(
    *,
    order_status: str | None,
    purpose: str | None,
    intents: list[str],
    shopper_texts: list[str],
    return_reason: str | None,
    has_open_ticket: bool,
) -> bool:
    """Whether a conversation reads as a complaint: a delayed order, a refund, problem or
    handoff, an angry message, or a return because of a fault (a return with no reason
    known counts as one)."""
    if has_open_ticket or order_status in COMPLAINT_ORDER_STATUSES or purpose in COMPLAINT_PURPOSES:
        return True
    if any(intent in COMPLAINT_INTENTS for intent in intents):
        return True
    if any(is_frustrated(text) for text in shopper_texts):
        return True
    if return_reason in FAULT_RETURN_REASONS:
        return True
    returning = purpose in ("return", "exchange") or any(intent in RETURN_INTENTS for intent in intents)
    return returning and return_reason is None


@dataclass(frozen=True)
class TouchContext:
    conversation_id: str | None = None
    in_complaint: bool = False  # a complaint, dispute, refund problem or handoff is under way
    already_touched: bool = False  # this conversation already had its personal touch


@dataclass(frozen=True)
class Touch:
    kind: str  # one of TOUCH_KINDS
    text: str  # ready to show
    product_id: int | None = None
    url: str | None = None


def personal_touch(
    session: Session,
    customer: Customer,
    context: TouchContext,
    today: dt.date,
    settings: Settings,
) -> Touch | None:
    """At most one touch, most timely first: birthday offer, refill reminder, first-order
    thanks, then a product that goes with the last order."""
    if context.in_complaint or context.already_touched:
        return None
    orders = _counted_orders(session, customer)
    for rule in (_birthday_offer, _replenish_reminder, _first_order_thanks, _complement):
        touch = rule(session, customer, orders, today, settings)
        if touch is not None:
            return touch
    return None


def next_birthday(birthday: dt.date, today: dt.date) -> dt.date:
    """This year's birthday if still ahead (or today), else next year's; Feb 29 -> Feb 28."""
    for year in (today.year, today.year + 1):
        day = 28 if (birthday.month, birthday.day) == (2, 29) and not _is_leap(year) else birthday.day
        candidate = dt.date(year, birthday.month, day)
        if candidate >= today:
            return candidate
    raise AssertionError("unreachable")


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def birthday_offer_applies(birthday: dt.date | None, today: dt.date, settings: Settings) -> bool:
    """In the birthday month, or within the window before a birthday early next month."""
    if birthday is None:
        return False
    if birthday.month == today.month:
        return True
    return (next_birthday(birthday, today) - today).days <= settings.birthday_offer_window_days


def _counted_orders(session: Session, customer: Customer) -> list[Order]:
    return list(
        session.execute(
            select(Order)
            .options(selectinload(Order.items).selectinload(OrderItem.product))
            .where(Order.customer_id == customer.id, Order.status.not_in(NOT_COUNTED_STATUSES))
            .order_by(Order.placed_at, Order.id)
        ).scalars()
    )


def _birthday_offer(session, customer, orders, today, settings) -> Touch | None:
    if not birthday_offer_applies(customer.birthday, today, settings):
        return None
    upcoming = next_birthday(customer.birthday, today)
    if upcoming == today:
        opening = f"Happy birthday, {customer.first_name}!"
    elif customer.birthday.month == today.month and upcoming.year > today.year:
        opening = f"It's your birthday month, {customer.first_name}!"
    else:
        opening = f"Your birthday is coming up on {format_date(upcoming, year=False)}, {customer.first_name}!"
    text = f"{opening} You get {BIRTHDAY_DISCOUNT_PERCENT}% off one order during your birthday month."
    return Touch("birthday_offer", text)


def _replenish_reminder(session, customer, orders, today, settings) -> Touch | None:
    """A consumable bought about one refill cycle ago, not bought again since, still in stock."""
    last_bought: dict[int, tuple[dt.date, OrderItem]] = {}
    for order in orders:
        for item in order.items:
            if item.product.replenish_days:
                last_bought[item.product_id] = (order.placed_at.date(), item)
    due = []
    for bought_on, item in last_bought.values():
        product = item.product
        drift = abs((today - bought_on).days - product.replenish_days)
        if drift <= settings.replenish_reminder_window_days and product.stock > 0:
            due.append((drift, product.id, bought_on, product))
    if not due:
        return None
    _, _, bought_on, product = min(due)
    url = product_url(product, settings)
    text = (
        f"It's been about {_weeks((today - bought_on).days)} since your {product.name}; "
        f"running low? You can reorder it here: {url}"
    )
    return Touch("replenish_reminder", text, product.id, url)


def _first_order_thanks(session, customer, orders, today, settings) -> Touch | None:
    if len(orders) != 1:
        return None
    if (today - orders[0].placed_at.date()).days > settings.first_order_thanks_days:
        return None
    return Touch(
        "first_order_thanks",
        f"Thank you for your first order with {settings.store_name}, {customer.first_name}!",
    )


def _complement(session, customer, orders, today, settings) -> Touch | None:
    if not orders:
        return None
    latest = orders[-1]
    product = complement_for(session, latest)
    if product is None:
        return None
    bought = {item.product_id for order in orders for item in order.items}
    if product.id in bought:
        return None
    url = product_url(product, settings)
    names = join_words(dict.fromkeys(item.product.name for item in latest.items))
    text = f"{product.name} ({format_money(product.price)}) goes nicely with your {names}: {url}"
    return Touch("complement", text, product.id, url)


def _weeks(days: int) -> str:
    if days < 14:
        return f"{days} days"
    if days < 60:
        return f"{round(days / 7)} weeks"
    return f"{round(days / 30)} months"


# --- loyalty -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoyaltySummary:
    points: int
    tier: str
    next_tier: str | None  # None at the top tier
    points_to_next_tier: int | None
    double_points_today: bool
    upcoming_double_points_days: tuple[dt.date, ...]
    text: str  # ready to show


def loyalty_tier(points: int, settings: Settings) -> tuple[str, str | None, int | None]:
    """(tier, next tier, points still needed for it) from the configured thresholds."""
    tiers = sorted(settings.loyalty_tiers, key=lambda t: t[1])
    current = BASE_TIER
    for name, threshold in tiers:
        if points >= threshold:
            current = name
        else:
            return current, name, threshold - points
    return current, None, None


def loyalty_summary(
    session: Session, customer: Customer | int, today: dt.date, settings: Settings
) -> LoyaltySummary:
    """Points as the database has them now (not as a slot remembers them)."""
    customer_id = customer if isinstance(customer, int) else customer.id
    points = session.execute(
        select(Customer.loyalty_points).where(Customer.id == customer_id)
    ).scalar_one()
    tier, next_tier, to_next = loyalty_tier(points, settings)
    today_doubles = is_double_points_day(today, settings)
    upcoming = tuple(d for d in upcoming_double_points_days(today, settings, limit=4) if d != today)[:3]
    text = f"You have {points:,} points: {tier} tier."
    if next_tier:
        text += f" {to_next:,} more to reach {next_tier}."
    if today_doubles:
        text += " Today is a double-points day!"
    if upcoming:
        days = "; ".join(format_date(d, weekday=True, year=d.year != today.year) for d in upcoming)
        text += f" Next double-points days: {days}."
    return LoyaltySummary(points, tier, next_tier, to_next, today_doubles, upcoming, text)
