"""Which items of an order may go back today, and why not.

Eligibility is decided from the database, item by item, and every refusal carries a
machine-readable reason and the date that matters, so the assistant can say *why*:

* not_delivered     - nothing to send back yet (date: the expected delivery day, if known)
* window_closed     - the return window has ended (date: its last day)
* final_sale        - final-sale items cannot be returned or exchanged
* already_returned  - the item is in an earlier return or exchange (date: when)

The return window is `standard_return_days` from delivery; items bought between
`holiday_purchase_start` and `holiday_purchase_end` may also be returned until
`holiday_return_until` of the next year, whichever is later. The window's last day is inside.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.orders.lookup import verified_order
from bot.settings import Settings, get_settings
from bot.store.models import Order, OrderItem, ReturnItem


@dataclass(frozen=True)
class ItemEligibility:
    order_item_id: int
    position: int  # 1-based, as the shopper sees the order
    name: str
    quantity: int
    amount: Decimal  # what the line was paid: unit price x quantity
    eligible: bool
    reason: str | None  # None | not_delivered | window_closed | final_sale | already_returned
    date: dt.date | None  # last day to return (eligible, window_closed), expected delivery, or when returned


def delivered_on(order: Order) -> dt.date | None:
    shipment = order.shipment
    if shipment is None:
        return None
    if shipment.delivered_at is not None:
        return shipment.delivered_at.date()
    if shipment.status == "delivered" or order.status == "delivered":
        # Delivered without a recorded time: the last tracking event is the best evidence.
        if shipment.events:
            return shipment.events[-1].at.date()
    return None


def _in_holiday_period(placed: dt.date, settings: Settings) -> tuple[bool, int]:
    """Whether a purchase date is in the holiday period, and the year that period started."""
    start, end, md = settings.holiday_purchase_start, settings.holiday_purchase_end, (placed.month, placed.day)
    if start <= end:
        return start <= md <= end, placed.year
    if md >= start:
        return True, placed.year
    return md <= end, placed.year - 1


def holiday_deadline(placed: dt.date, settings: Settings) -> dt.date | None:
    """The extended last return day for a holiday-period purchase, else None."""
    inside, season_year = _in_holiday_period(placed, settings)
    if not inside:
        return None
    month, day = settings.holiday_return_until
    return dt.date(season_year + 1, month, day)


def return_deadline(order: Order, delivered: dt.date, settings: Settings) -> dt.date:
    """The last day the order's items may be returned (inclusive)."""
    standard = delivered + dt.timedelta(days=settings.standard_return_days)
    holiday = holiday_deadline(order.placed_at.date(), settings)
    return max(standard, holiday) if holiday else standard


def returned_on(session: Session, item_ids: Sequence[int]) -> dict[int, ReturnItem]:
    """The earlier return line of each of these order items that has one, by order item id."""
    if not item_ids:
        return {}
    rows = session.execute(select(ReturnItem).where(ReturnItem.order_item_id.in_(tuple(item_ids)))).scalars()
    return {ri.order_item_id: ri for ri in rows}


def item_eligibility(
    session: Session, order: Order, settings: Settings, *, final_sale_counts: bool = True
) -> list[ItemEligibility]:
    """Every item of the order with whether it can be returned today, and why not.

    `final_sale_counts=False` is for problem reports: a damaged final-sale item is still ours
    to put right.
    """
    today = settings.today()
    delivered = delivered_on(order)
    deadline = return_deadline(order, delivered, settings) if delivered else None
    returned = returned_on(session, [i.id for i in order.items])
    result = []
    for position, item in enumerate(order.items, start=1):
        reason, date = None, deadline
        if item.id in returned:
            reason, date = "already_returned", returned[item.id].ret.created_at.date()
        elif delivered is None:
            reason, date = "not_delivered", order.shipment.eta if order.shipment else None
        elif final_sale_counts and item.product.final_sale:
            reason, date = "final_sale", None
        elif today > deadline:
            reason = "window_closed"
        result.append(
            ItemEligibility(
                order_item_id=item.id,
                position=position,
                name=item.product.name,
                quantity=item.quantity,
                amount=item.line_total,
                eligible=reason is None,
                reason=reason,
                date=date,
            )
        )
    return result


def eligibility(
    session: Session, conversation_id: str, order_number: str | None, settings: Settings | None = None
) -> list[ItemEligibility] | None:
    """The verified order's items with their return eligibility; None if not verified."""
    settings = settings or get_settings()
    order = verified_order(session, conversation_id, order_number)
    if order is None:
        return None
    return item_eligibility(session, order, settings)


def eligibility_of(all_items: list[ItemEligibility], items: Sequence[OrderItem]) -> tuple[ItemEligibility, ...]:
    """The eligibility lines of just these order items, in the order's order."""
    wanted = {i.id for i in items}
    return tuple(e for e in all_items if e.order_item_id in wanted)


def split_by_eligibility(
    all_items: list[ItemEligibility], items: Sequence[OrderItem]
) -> tuple[list[OrderItem], tuple[ItemEligibility, ...]]:
    """The asked-for items that may go back, and the refused ones with their reasons."""
    asked = {e.order_item_id: e for e in eligibility_of(all_items, items)}
    eligible = [i for i in items if asked[i.id].eligible]
    refused = tuple(e for e in asked.values() if not e.eligible)
    return eligible, refused
